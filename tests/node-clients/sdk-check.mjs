#!/usr/bin/env node
// Switchyard SDK check: drives the real `openai` and `portkey-ai` npm SDKs
// through the gateway and checks the answers of the OpenAI simulator.
//
// Output: one JSON line per case on stdout, then {"summary":{"passed":N,"failed":M}}.
// Exit code: 0 when every selected case passed, 1 when any failed, 2 on bad input.
// See README.md for the environment variables.

// Both SDKs read OPENAI_* / PORTKEY_* variables (base URL, keys, org, extra
// headers). Drop them before the SDKs are loaded so that only what this script
// passes explicitly reaches the gateway.
for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|PORTKEY)_/i.test(name)) delete process.env[name];
}

const { default: OpenAI } = await import('openai');
const { Portkey } = await import('portkey-ai');

const CASE_TIMEOUT_MS = 10_000;
const OVERALL_TIMEOUT_MS = 60_000;
const startedAt = Date.now();

const env = {
  gatewayUrl: (process.env.GATEWAY_URL ?? '').replace(/\/+$/, ''),
  upstreamUrl: process.env.UPSTREAM_URL ?? '',
  providerApiKey: process.env.PROVIDER_API_KEY ?? '',
  configName: process.env.CONFIG_NAME ?? '',
  model: process.env.MODEL || 'gpt-4o-mini',
  embeddingModel: process.env.EMBEDDING_MODEL || 'text-embedding-3-small',
  only: process.env.ONLY ?? '',
};

const missing = [
  ['GATEWAY_URL', env.gatewayUrl],
  ['UPSTREAM_URL', env.upstreamUrl],
  ['PROVIDER_API_KEY', env.providerApiKey],
  ['CONFIG_NAME', env.configName],
].filter(([, v]) => !v).map(([k]) => k);
if (missing.length > 0) {
  process.stderr.write(`sdk-check: missing environment variable(s): ${missing.join(', ')}\n`);
  process.exit(2);
}

const SDKS = ['openai', 'portkey-ai'];
const MODES = ['header', 'inline-config', 'named-config'];
const OPS = ['chat', 'stream', 'embedding'];

// In config modes the gateway takes the provider key from the config; the SDK
// still needs some apiKey, so it gets this placeholder.
const PLACEHOLDER_KEY = 'sk-switchyard-unused-placeholder';

function inlineConfig() {
  return { provider: 'openai', api_key: env.providerApiKey, custom_host: env.upstreamUrl };
}

// ---------------------------------------------------------------- clients

function openaiClient(mode) {
  const common = { baseURL: env.gatewayUrl, timeout: CASE_TIMEOUT_MS, maxRetries: 0 };
  switch (mode) {
    case 'header':
      return new OpenAI({
        ...common,
        apiKey: env.providerApiKey,
        defaultHeaders: {
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': env.upstreamUrl,
        },
      });
    case 'inline-config':
      return new OpenAI({
        ...common,
        apiKey: PLACEHOLDER_KEY,
        defaultHeaders: { 'x-portkey-config': JSON.stringify(inlineConfig()) },
      });
    case 'named-config':
      return new OpenAI({
        ...common,
        apiKey: PLACEHOLDER_KEY,
        defaultHeaders: { 'x-portkey-config': env.configName },
      });
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

// portkey-ai turns its own options into x-portkey-* headers (provider ->
// x-portkey-provider, customHost -> x-portkey-custom-host, config -> x-portkey-config,
// objects JSON-encoded). No Portkey apiKey is needed when baseURL is given.
function portkeyClient(mode) {
  const common = { baseURL: env.gatewayUrl };
  switch (mode) {
    case 'header':
      return new Portkey({
        ...common,
        provider: 'openai',
        Authorization: `Bearer ${env.providerApiKey}`,
        customHost: env.upstreamUrl,
      });
    case 'inline-config':
      return new Portkey({ ...common, config: inlineConfig() });
    case 'named-config':
      return new Portkey({ ...common, config: env.configName });
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

// ---------------------------------------------------------------- checks

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function show(v) {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function promptFor(sdk, mode, op) {
  return `switchyard sdk check ${sdk} ${mode} ${op}`;
}

async function runChat(client, sdk, mode, signal) {
  const prompt = promptFor(sdk, mode, 'chat');
  const expected = `echo: ${prompt}`;
  const res = await client.chat.completions.create(
    { model: env.model, messages: [{ role: 'user', content: prompt }] },
    ...(sdk === 'openai' ? [{ signal }] : []),
  );
  const content = res?.choices?.[0]?.message?.content;
  assert(content === expected, `content: expected ${show(expected)}, got ${show(content)}`);
  const total = res?.usage?.total_tokens;
  assert(typeof total === 'number' && total > 0, `usage.total_tokens: expected > 0, got ${show(total)}`);
}

async function runStream(client, sdk, mode, signal) {
  const prompt = promptFor(sdk, mode, 'stream');
  const expected = `echo: ${prompt}`;
  const body = {
    model: env.model,
    messages: [{ role: 'user', content: prompt }],
    stream: true,
    stream_options: { include_usage: true },
  };
  const stream = await client.chat.completions.create(body, ...(sdk === 'openai' ? [{ signal }] : []));
  assert(stream && typeof stream[Symbol.asyncIterator] === 'function',
    `expected a stream, got ${show(stream)}`);
  let text = '';
  let contentChunks = 0;
  let usage = null;
  for await (const chunk of stream) {
    assert(chunk?.object === 'chat.completion.chunk',
      `chunk.object: expected "chat.completion.chunk", got ${show(chunk?.object)}`);
    const piece = chunk.choices?.[0]?.delta?.content;
    if (typeof piece === 'string' && piece.length > 0) {
      text += piece;
      contentChunks += 1;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert(text === expected, `streamed content: expected ${show(expected)}, got ${show(text)}`);
  assert(contentChunks >= 3, `expected at least 3 content chunks, got ${contentChunks}`);
  assert(usage && typeof usage.total_tokens === 'number' && usage.total_tokens > 0,
    `expected a usage chunk with total_tokens > 0, got ${show(usage)}`);
}

async function runEmbedding(client, sdk, mode, signal) {
  const prompt = promptFor(sdk, mode, 'embedding');
  const input = [`${prompt} first`, `${prompt} second`];
  const res = await client.embeddings.create(
    { model: env.embeddingModel, input },
    ...(sdk === 'openai' ? [{ signal }] : []),
  );
  const data = res?.data;
  assert(Array.isArray(data) && data.length === 2,
    `expected 2 embeddings, got ${show(Array.isArray(data) ? data.length : data)}`);
  data.forEach((item, i) => {
    const vec = item?.embedding;
    assert(Array.isArray(vec), `data[${i}].embedding: expected an array of floats, got ${show(vec)}`);
    assert(vec.length === 8, `data[${i}].embedding: expected length 8, got ${vec.length}`);
    assert(vec.every((x) => typeof x === 'number' && Number.isFinite(x)),
      `data[${i}].embedding: non-numeric values ${show(vec)}`);
    const norm = Math.sqrt(vec.reduce((s, x) => s + x * x, 0));
    assert(Math.abs(norm - 1) < 1e-3, `data[${i}].embedding: expected L2 norm ≈ 1, got ${norm}`);
  });
}

const OPERATIONS = { chat: runChat, stream: runStream, embedding: runEmbedding };

// ---------------------------------------------------------------- runner

function selectCases() {
  const all = [];
  for (const sdk of SDKS) for (const mode of MODES) for (const op of OPS) all.push({ sdk, mode, op });
  if (!env.only.trim()) return all;
  const patterns = env.only.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const [sdk = '*', mode = '*', op = '*'] = p.split(':');
    return { sdk, mode, op };
  });
  const hit = (pat, v) => pat === '*' || pat === '' || pat === v;
  return all.filter((c) => patterns.some((p) => hit(p.sdk, c.sdk) && hit(p.mode, c.mode) && hit(p.op, c.op)));
}

function errorText(err) {
  let msg = err?.message ?? String(err);
  if (err?.status !== undefined && !msg.includes(String(err.status))) msg = `${err.status} ${msg}`;
  for (let c = err?.cause, depth = 0; c && depth < 4; c = c.cause, depth += 1) {
    const text = [c.code, c.message].filter(Boolean).join(' ');
    if (text && !msg.includes(text)) msg += ` (cause: ${text})`;
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 600 ? `${msg.slice(0, 600)}…` : msg;
}

// A closed stdout (e.g. `| head`) must not turn into an unhandled error.
process.stdout.on('error', (err) => process.exit(err?.code === 'EPIPE' ? 1 : 2));

const counts = { passed: 0, failed: 0 };
function report(c, ok, ms, error) {
  const line = { sdk: c.sdk, mode: c.mode, op: c.op, ok, ms };
  if (!ok) line.error = error;
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (ok) counts.passed += 1;
  else counts.failed += 1;
  c.reported = true;
}

function finish() {
  process.stdout.write(`${JSON.stringify({ summary: counts })}\n`);
  process.exit(counts.failed === 0 && counts.passed > 0 ? 0 : 1);
}

async function runCase(c) {
  const budget = Math.min(CASE_TIMEOUT_MS, OVERALL_TIMEOUT_MS - (Date.now() - startedAt));
  const controller = new AbortController();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${budget} ms`));
    }, Math.max(budget, 0));
  });
  const t0 = Date.now();
  try {
    const client = c.sdk === 'openai' ? openaiClient(c.mode) : portkeyClient(c.mode);
    await Promise.race([OPERATIONS[c.op](client, c.sdk, c.mode, controller.signal), timeout]);
    report(c, true, Date.now() - t0);
  } catch (err) {
    report(c, false, Date.now() - t0, errorText(err));
  } finally {
    clearTimeout(timer);
  }
}

const cases = selectCases();
if (cases.length === 0) {
  process.stderr.write(`sdk-check: ONLY=${JSON.stringify(env.only)} selects no case ` +
    `(format sdk:mode:op, e.g. openai:header:chat; sdks ${SDKS.join('|')}, modes ${MODES.join('|')}, ops ${OPS.join('|')})\n`);
  process.exit(2);
}

// Never hang: whatever is still outstanding at the overall deadline fails.
setTimeout(() => {
  for (const c of cases) {
    if (!c.reported) report(c, false, 0, `not finished within the overall ${OVERALL_TIMEOUT_MS} ms timeout`);
  }
  finish();
}, OVERALL_TIMEOUT_MS);

for (const c of cases) {
  if (Date.now() - startedAt >= OVERALL_TIMEOUT_MS) break;
  await runCase(c);
}
for (const c of cases) {
  if (!c.reported) report(c, false, 0, `not started within the overall ${OVERALL_TIMEOUT_MS} ms timeout`);
}
finish();
