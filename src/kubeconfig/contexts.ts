// Context names for completion; silent on any problem (completion must never print errors).
import { loadKubeconfig } from './load.js';

export function contextNames(kubeconfig: string | undefined): string[] {
  try {
    return [...loadKubeconfig({ explicitPath: kubeconfig }).contexts.keys()];
  } catch {
    return [];
  }
}
