// A slow OpenAI chat-completions stream server for the memory and load-shedding checks (bench and tests).
// Speaks OpenAI's wire format: POST /v1/chat/completions with a bearer key and a JSON body that has `model` and a
// non-empty `messages`; anything else gets OpenAI's error shape (401, 400, 404). A streaming request gets
// `chat.completion.chunk` events: the role at once, then one content piece every INTERVAL_MS for EVENTS events, then
// the finish chunk, the usage chunk and `data: [DONE]`. A non-streaming request gets one `chat.completion`.
// Usage: node slow-sse.mjs PORT [EVENTS=20] [INTERVAL_MS=1000]   (prints "listening <port>" when ready)
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const events = Number(process.argv[3] ?? 20);
const intervalMs = Number(process.argv[4] ?? 1000);
let open = 0;
let served = 0;

function error(res, status, type, message, code = null) {
  const body = JSON.stringify({ error: { message, type, param: null, code } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    const body = JSON.stringify({ open, served });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  if (req.method !== 'POST' || !req.url.startsWith('/v1/chat/completions')) {
    error(res, 404, 'invalid_request_error', `Invalid URL (${req.method} ${req.url})`);
    return;
  }
  if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
    error(res, 401, 'invalid_request_error', "You didn't provide an API key.");
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      error(res, 400, 'invalid_request_error', 'We could not parse the JSON body of your request.');
      return;
    }
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      error(res, 400, 'invalid_request_error', "Missing required parameter: 'model' or 'messages'.");
      return;
    }
    const id = `chatcmpl-slow${served++}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta, finish = null, usage = undefined) => JSON.stringify({
      id, object: 'chat.completion.chunk', created, model: body.model,
      choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(usage ? { usage } : {}),
    });
    if (body.stream !== true) {
      const text = Array.from({ length: events }, (_, i) => `word${i} `).join('');
      const payload = JSON.stringify({ id, object: 'chat.completion', created, model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 9, completion_tokens: events, total_tokens: 9 + events } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
      return;
    }
    open++;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(`data: ${chunk({ role: 'assistant', content: '', refusal: null })}\n\n`);
    let sent = 0;
    let closed = false;
    const finish = () => { if (!closed) { closed = true; open--; clearInterval(timer); } };
    const timer = setInterval(() => {
      if (sent < events) {
        res.write(`data: ${chunk({ content: `word${sent} ` })}\n\n`);
        sent++;
        return;
      }
      res.write(`data: ${chunk({}, 'stop')}\n\n`);
      if (body.stream_options?.include_usage) {
        res.write(`data: ${chunk(null, null, { prompt_tokens: 9, completion_tokens: events, total_tokens: 9 + events })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
      finish();
    }, intervalMs);
    res.on('close', finish);
  });
});
server.keepAliveTimeout = 65_000;
server.maxConnections = Infinity;
server.listen(port, '127.0.0.1', 8192, () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
