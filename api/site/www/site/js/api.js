// Requests to the log's own server, always by URLs relative to the page, so the page
// asks nothing of any other host (served by `tally serve` or next to the log's
// endpoints by any web server).

/** The server answered with an error (a problem document, RFC 9457, when it can). */
export class ServerError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function get(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json, text/plain" }, credentials: "same-origin" });
  } catch (e) {
    throw new ServerError(0, `the server did not answer (${e.message})`);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      if (typeof problem.detail === "string") detail = problem.detail;
    } catch {
      // not a problem document: keep the status line
    }
    throw new ServerError(response.status, detail);
  }
  return response;
}

/** GET a JSON document (parsed by the browser: for display; checks parse bytes themselves). */
export async function getJSON(path, params = {}) {
  return (await get(withQuery(path, params))).json();
}

/** GET a text document. */
export async function getText(path, params = {}) {
  return (await get(withQuery(path, params))).text();
}

function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The URL of one entry as the API serves it (the page links each seq to it). */
export function entryURL(seq) {
  return `v1/entries?start=${seq}&end=${seq + 1}`;
}
