// Injected by the bundler from package.json; the fallback is only seen when running from source.
declare const __PLUGIN_VERSION__: string | undefined;

export const VERSION: string = typeof __PLUGIN_VERSION__ === 'string' ? __PLUGIN_VERSION__ : '0.0.0-dev';
