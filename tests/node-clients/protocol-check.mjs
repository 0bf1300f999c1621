#!/usr/bin/env node
// Switchyard protocol check: drives the real `@anthropic-ai/sdk` (Messages API) and the
// `openai` SDK's Responses API through the gateway, one case per entry of CASES.
//
// CASES is a JSON array of {name, sdk: "anthropic" | "openai-responses", model, apiKey, headers, stream}.
// Output: one JSON line per case on stdout ({name, ok, text, toolInput?, usage, events, error?}),
// then {"summary":{"passed":N,"failed":M}}. Exit code 0 when every case passed, 1 otherwise, 2 on bad input.
for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|ANTHROPIC)_/i.test(name)) delete process.env[name];
}
const { default: Anthropic } = await import('@anthropic-ai/sdk');
const { default: OpenAI } = await import('openai');

const gatewayUrl = (process.env.GATEWAY_URL ?? '').replace(/\/+$/, '');
let cases;
try {
  cases = JSON.parse(process.env.CASES ?? '');
} catch {
  process.stderr.write('protocol-check: CASES must be a JSON array\n');
  process.exit(2);
}
if (!gatewayUrl || !Array.isArray(cases)) {
  process.stderr.write('protocol-check: GATEWAY_URL and CASES are required\n');
  process.exit(2);
}

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function anthropicCase(c) {
  // The Anthropic SDK appends /v1/messages to the base URL.
  const client = new Anthropic({ apiKey: c.apiKey, baseURL: gatewayUrl, defaultHeaders: c.headers, maxRetries: 0, timeout: 15_000 });
  const params = {
    model: c.model,
    max_tokens: 256,
    system: 'You are a test.',
    messages: [{ role: 'user', content: c.tool ? 'weather in Paris' : 'hello from the anthropic sdk' }],
  };
  if (c.tool) {
    params.tools = [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.schema }];
    params.tool_choice = { type: 'any' };
  }
  if (!c.stream) {
    const msg = await client.messages.create(params);
    const text = msg.content.filter(b => b.type === 'text').map(b => b.text).join('');
    const tool = msg.content.find(b => b.type === 'tool_use');
    return { text, toolInput: tool?.input ?? null, stopReason: msg.stop_reason, usage: msg.usage, events: 0 };
  }
  const stream = client.messages.stream(params);
  let events = 0;
  let jsonPieces = 0;
  stream.on('streamEvent', e => { events++; if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') jsonPieces++; });
  const msg = await stream.finalMessage();
  const text = msg.content.filter(b => b.type === 'text').map(b => b.text).join('');
  const tool = msg.content.find(b => b.type === 'tool_use');
  return { text, toolInput: tool?.input ?? null, stopReason: msg.stop_reason, usage: msg.usage, events, jsonPieces };
}

async function responsesCase(c) {
  const client = new OpenAI({ apiKey: c.apiKey, baseURL: gatewayUrl + '/v1', defaultHeaders: c.headers, maxRetries: 0, timeout: 15_000 });
  const params = { model: c.model, instructions: 'You are a test.', input: c.tool ? 'weather in Paris' : 'hello from the responses api', max_output_tokens: 256 };
  if (c.tool) {
    params.tools = [{ type: 'function', name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.schema, strict: false }];
    params.tool_choice = 'required';
  }
  if (!c.stream) {
    const r = await client.responses.create(params);
    const call = r.output.find(o => o.type === 'function_call');
    return { text: r.output_text, toolInput: call ? JSON.parse(call.arguments) : null, stopReason: r.status, usage: r.usage, events: 0 };
  }
  const stream = await client.responses.create({ ...params, stream: true });
  let events = 0;
  let jsonPieces = 0;
  let final = null;
  let text = '';
  for await (const e of stream) {
    events++;
    if (e.type === 'response.output_text.delta') text += e.delta;
    if (e.type === 'response.function_call_arguments.delta') jsonPieces++;
    if (e.type === 'response.completed' || e.type === 'response.incomplete') final = e.response;
  }
  if (!final) throw new Error('stream ended without response.completed');
  const call = final.output.find(o => o.type === 'function_call');
  return { text, toolInput: call ? JSON.parse(call.arguments) : null, stopReason: final.status, usage: final.usage, events, jsonPieces };
}

let passed = 0;
let failed = 0;
for (const c of cases) {
  try {
    const result = c.sdk === 'anthropic' ? await anthropicCase(c) : await responsesCase(c);
    passed++;
    process.stdout.write(JSON.stringify({ name: c.name, ok: true, ...result }) + '\n');
  } catch (e) {
    failed++;
    process.stdout.write(JSON.stringify({ name: c.name, ok: false, error: String(e?.message ?? e) }) + '\n');
  }
}
process.stdout.write(JSON.stringify({ summary: { passed, failed } }) + '\n');
process.exit(failed === 0 ? 0 : 1);
