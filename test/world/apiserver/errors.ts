// metav1.Status bodies exactly as kube-apiserver writes them (k8s.io/apimachinery
// pkg/api/errors), so clients (kubectl, the plugin) print and classify them the same way.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A resource as the error messages name it: `secrets`, `roles.rbac.authorization.k8s.io`. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

export function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** Thrown by handlers; the server turns it into a Status response. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
  }
}

export function statusBody(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return status;
}

function details(r: QualifiedResource, name?: string): StatusDetails {
  const d: StatusDetails = {};
  if (name !== undefined) d.name = name;
  if (r.group) d.group = r.group;
  d.kind = r.resource;
  return d;
}

export function notFound(r: QualifiedResource, name: string): ApiError {
  return new ApiError(statusBody(404, 'NotFound', `${qualified(r)} "${name}" not found`, details(r, name)));
}

export function alreadyExists(r: QualifiedResource, name: string): ApiError {
  return new ApiError(statusBody(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, details(r, name)));
}

export function conflict(r: QualifiedResource, name: string, why: string): ApiError {
  return new ApiError(
    statusBody(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, details(r, name)),
  );
}

export const MODIFIED_CONFLICT = 'the object has been modified; please apply your changes to the latest version and try again';

export function badRequest(message: string): ApiError {
  return new ApiError(statusBody(400, 'BadRequest', message));
}

export function methodNotSupported(r: QualifiedResource, action: string): ApiError {
  return new ApiError(
    statusBody(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(r)}"`, details(r)),
  );
}

/** A 404 for a path the server does not know (no Status details, like the real mux). */
export function pathNotFound(): ApiError {
  return new ApiError(statusBody(404, 'NotFound', 'the server could not find the requested resource', {}));
}

export function unauthorized(): ApiError {
  return new ApiError(statusBody(401, 'Unauthorized', 'Unauthorized'));
}

export function forbidden(r: QualifiedResource, name: string | undefined, message: string): ApiError {
  const prefix = name ? `${qualified(r)} "${name}"` : qualified(r);
  return new ApiError(statusBody(403, 'Forbidden', `${prefix} is forbidden: ${message}`, details(r, name)));
}

export function forbiddenPath(message: string): ApiError {
  return new ApiError(statusBody(403, 'Forbidden', `forbidden: ${message}`, {}));
}

export function internalError(message: string): ApiError {
  return new ApiError(
    statusBody(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

/** One field error as field.ErrorList renders it. */
export interface FieldError {
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueNotSupported' | 'FieldValueDuplicate';
  field: string;
  /** Invalid value, rendered as kube does (strings quoted). Absent for Required/Forbidden. */
  value?: unknown;
  detail: string;
}

const FIELD_ERROR_TEXT: Record<FieldError['type'], string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
};

function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `Invalid value: "x": detail` — the message of one cause (without the field path). */
export function fieldErrorBody(e: FieldError): string {
  const head = FIELD_ERROR_TEXT[e.type];
  if (e.type === 'FieldValueInvalid' || e.type === 'FieldValueNotSupported' || e.type === 'FieldValueDuplicate') {
    return e.detail ? `${head}: ${renderValue(e.value)}: ${e.detail}` : `${head}: ${renderValue(e.value)}`;
  }
  return e.detail ? `${head}: ${e.detail}` : head;
}

/** 422 Invalid: `Secret "x" is invalid: metadata.name: Invalid value: …` */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const rendered = errors.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const message =
    rendered.length === 1 ? `${kind} "${name}" is invalid: ${rendered[0]}` : `${kind} "${name}" is invalid: [${rendered.join(', ')}]`;
  const d: StatusDetails = { name };
  if (group) d.group = group;
  d.kind = kind;
  d.causes = errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
  return new ApiError(statusBody(422, 'Invalid', message, d));
}

export function tooManyRequests(retryAfterSeconds: number, message = 'Too many requests, please try again later.'): ApiError {
  return new ApiError(statusBody(429, 'TooManyRequests', message, { retryAfterSeconds }), {
    'Retry-After': String(retryAfterSeconds),
  });
}

export function serviceUnavailable(message = 'The server is currently unable to handle the request'): ApiError {
  return new ApiError(statusBody(503, 'ServiceUnavailable', message));
}
