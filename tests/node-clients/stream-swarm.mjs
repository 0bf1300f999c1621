// Opens many concurrent streaming chat completions through the gateway and classifies how each one ended.
// Usage: node stream-swarm.mjs URL STREAMS [RAMP_MS=5000] [EXPECTED_EVENTS=20] [HEADERS_JSON={}]
// Prints one JSON line: {completed, refused, cut, failed, statuses, errors, maxOpen, elapsedMs}.
//   completed: 200 and the whole stream arrived (every content event, the finish chunk and [DONE]);
//   refused:   503 with a Retry-After header before any stream started (load shed);
//   cut:       200, then the stream ended early or the connection broke (an accepted stream was dropped);
//   failed:    any other status, or the connection failed before a response.
// While it runs it prints "open N" to stderr every second (streams with a 200 still running).
import http from 'node:http';

const [url, countRaw, rampRaw, expectedRaw, headersRaw] = process.argv.slice(2);
const target = new URL(url);
const count = Number(countRaw);
const rampMs = Number(rampRaw ?? 5000);
const expected = Number(expectedRaw ?? 20);
const extraHeaders = JSON.parse(headersRaw ?? '{}');
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const result = { completed: 0, refused: 0, cut: 0, failed: 0, statuses: {}, errors: {}, maxOpen: 0, elapsedMs: 0 };
let open = 0;
let done = 0;
const started = Date.now();
const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Count slowly.' }] });

function settle(kind) {
  result[kind]++;
  done++;
  if (done === count) {
    result.elapsedMs = Date.now() - started;
    clearInterval(ticker);
    console.log(JSON.stringify(result));
    process.exit(0);
  }
}

function one() {
  const req = http.request({
    host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extraHeaders },
  }, (res) => {
    result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
    if (res.statusCode !== 200) {
      const refused = res.statusCode === 503 && res.headers['retry-after'] !== undefined;
      res.resume();
      res.on('end', () => settle(refused ? 'refused' : 'failed'));
      res.on('error', () => settle(refused ? 'refused' : 'failed'));
      return;
    }
    open++;
    result.maxOpen = Math.max(result.maxOpen, open);
    let text = '';
    let finished = false;
    const end = (kind) => { if (!finished) { finished = true; open--; settle(kind); } };
    res.setEncoding('utf8');
    res.on('data', (d) => { text += d; });
    res.on('end', () => {
      const contentEvents = (text.match(/"content":"word\d+ "/g) ?? []).length;
      const complete = text.includes('data: [DONE]') && text.includes('"finish_reason":"stop"') && contentEvents === expected;
      end(complete ? 'completed' : 'cut');
    });
    res.on('error', () => end('cut'));
    res.on('aborted', () => end('cut'));
  });
  req.on('error', (e) => {
    if (req.res) return; // handled by the response's own events
    result.errors[e.code ?? e.message] = (result.errors[e.code ?? e.message] ?? 0) + 1;
    settle('failed');
  });
  req.end(body);
}

const ticker = setInterval(() => process.stderr.write(`open ${open} done ${done}\n`), 1000);
for (let i = 0; i < count; i++) {
  setTimeout(one, Math.floor((i * rampMs) / count));
}
