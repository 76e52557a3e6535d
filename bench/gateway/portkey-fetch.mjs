/**
 * Preloaded into Portkey's gateway by bench/gateway (`node --import ./portkey-fetch.mjs
 * start-server.js`), so that its streamed answers work at all.
 *
 * Why: Portkey 1.15.2 relays a stream as `new Response(readable, upstreamResponse)` and then
 * appends its own headers to the result. Its server, @hono/node-server 1.19 (Portkey's own
 * copy), replaces the global `Response` with a lighter class that, given a `fetch` response as
 * the second argument, keeps that response's `Headers` object itself; a `fetch` response's
 * headers are immutable, so the append throws ("TypeError: immutable") and every streamed
 * request ends in HTTP 500 "Something went wrong".
 *
 * The fix here: `fetch` answers with a copy of the upstream response whose headers are a fresh,
 * mutable `Headers`, made with the runtime's own `Response` (captured before @hono/node-server
 * replaces it). Same status, headers and body stream; the body is not read or copied. It costs
 * Portkey one object and one headers copy per request, which is less than a microsecond next to
 * the milliseconds measured.
 */
const RuntimeResponse = globalThis.Response;
const RuntimeHeaders = globalThis.Headers;
const runtimeFetch = globalThis.fetch;

globalThis.fetch = async function fetchWithMutableHeaders(input, init) {
  const response = await runtimeFetch(input, init);
  return new RuntimeResponse(response.body, { status: response.status, statusText: response.statusText, headers: new RuntimeHeaders(response.headers) });
};
