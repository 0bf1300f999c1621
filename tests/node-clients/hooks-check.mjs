#!/usr/bin/env node
// Switchyard guardrail check: sends one chat request through the real `portkey-ai` npm SDK with an inline config whose
// input guardrail fails without denying (the gateway answers 246), and prints what the SDK exposes as one JSON line:
// {"ok":true,"content":…,"hook_results":…} or {"ok":false,"error":…}.
// Environment: GATEWAY_URL (…/v1), UPSTREAM_URL (an OpenAI-compatible upstream), PROVIDER_API_KEY.
for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|PORTKEY)_/i.test(name)) delete process.env[name];
}
const { Portkey } = await import('portkey-ai');

const gatewayUrl = (process.env.GATEWAY_URL ?? '').replace(/\/+$/, '');
const upstreamUrl = process.env.UPSTREAM_URL ?? '';
const apiKey = process.env.PROVIDER_API_KEY ?? '';
if (!gatewayUrl || !upstreamUrl || !apiKey) {
  process.stderr.write('hooks-check: GATEWAY_URL, UPSTREAM_URL and PROVIDER_API_KEY are required\n');
  process.exit(2);
}

const config = {
  provider: 'openai',
  api_key: apiKey,
  custom_host: upstreamUrl,
  input_guardrails: [{ id: 'no-secrets', 'default.contains': { words: ['secret'], operator: 'none' }, deny: false }],
};

try {
  const client = new Portkey({ baseURL: gatewayUrl, config, maxRetries: 0, timeout: 10_000 });
  const res = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'the secret plan' }],
  });
  process.stdout.write(JSON.stringify({
    ok: true,
    content: res.choices?.[0]?.message?.content ?? null,
    hook_results: res.hook_results ?? null,
  }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err?.message ?? err), status: err?.status ?? null }) + '\n');
  process.exit(1);
}
