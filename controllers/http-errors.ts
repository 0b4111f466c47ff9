// Errors of @kubernetes/client-node calls to the host cluster: the HTTP status they carry, and a
// read that treats 404 as "absent".

/** The HTTP status of a client-node ApiException (`err.code`), or undefined for other errors. */
export function httpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Reads a host object; undefined on 404, any other error is thrown. */
export async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (httpCode(err) === 404) return undefined;
    throw err;
  }
}
