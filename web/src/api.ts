// One way to talk to vpbx: JSON in and out, the CSRF header on unsafe methods, one error shape.

export type FieldErrors = Record<string, string>;

export class ApiError extends Error {
  status: number;
  fields: FieldErrors;
  /** The server has no such route (yet): the page says so instead of faking data. */
  missing: boolean;
  constructor(status: number, message: string, fields: FieldErrors = {}, missing = false) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.missing = missing;
  }
}

function cookie(name: string): string {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void) {
  onUnauthenticated = fn;
}

/** Turn any of the API's error bodies into messages per field ("email", "/data/timeout", ...). */
function parseError(status: number, body: any): ApiError {
  if (body && body.message === "Missing Authentication Token") {
    return new ApiError(404, "not available on this server yet", {}, true);
  }
  const fields: FieldErrors = {};
  let message = `request failed (HTTP ${status})`;
  if (body && Array.isArray(body.errors)) {
    for (const e of body.errors) {
      const key = String(e.pointer || "").replace(/^\//, "") || "_";
      fields[key] = fields[key] ? fields[key] + "; " + e.message : e.message;
    }
    message = body.errors.map((e: any) => (e.pointer ? `${e.pointer}: ` : "") + e.message).join("; ");
  } else if (body && body.message) {
    message = body.message;
    if (body.field) fields[body.field] = body.message;
  } else if (body && body.Message) {
    message = body.Message;
  }
  return new ApiError(status, message, fields, status === 404 && !body?.errors && !body?.field);
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = cookie("vpbx_csrf");
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "cannot reach vpbx; check the connection and try again");
  }
  const text = await resp.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text.slice(0, 200) };
  }
  if (!resp.ok) {
    const err = parseError(resp.status, data);
    if (resp.status === 401 && !path.endsWith("/auth/login")) onUnauthenticated();
    throw err;
  }
  return data as T;
}

export const get = <T = any>(path: string) => api<T>("GET", path);
export const post = <T = any>(path: string, body?: unknown) => api<T>("POST", path, body ?? {});
export const patch = <T = any>(path: string, body: unknown) => api<T>("PATCH", path, body);
export const put = <T = any>(path: string, body: unknown) => api<T>("PUT", path, body);
export const del = <T = any>(path: string) => api<T>("DELETE", path);

/** Base of the tenant-scoped configuration API. */
export const tenantPath = (tenant: string) => `/api/v1/tenants/${encodeURIComponent(tenant)}`;
