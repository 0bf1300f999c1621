#!/usr/bin/env node
// Switchyard gateway-key check: the `portkey-ai` SDK's apiKey option and the `openai` SDK's apiKey (as Bearer, in config
// mode) against a gateway running with AUTH_MODE=keys, or AUTH_MODE=jwt with a JWT as GATEWAY_KEY (the same three cases hold).
//
// Environment: GATEWAY_URL (…/v1), UPSTREAM_URL, PROVIDER_API_KEY, GATEWAY_KEY, CONFIG_NAME.
// Output: one JSON line per case ({"case","ok","error"?}). Exit code 0 when every case passed, 1 otherwise.

for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|PORTKEY)_/i.test(name)) delete process.env[name];
}
const { default: OpenAI } = await import('openai');
const { Portkey } = await import('portkey-ai');

const env = {
  gatewayUrl: (process.env.GATEWAY_URL ?? '').replace(/\/+$/, ''),
  upstreamUrl: process.env.UPSTREAM_URL ?? '',
  providerApiKey: process.env.PROVIDER_API_KEY ?? '',
  gatewayKey: process.env.GATEWAY_KEY ?? '',
  configName: process.env.CONFIG_NAME ?? '',
};
const messages = [{ role: 'user', content: 'switchyard gateway key check' }];
const expected = 'echo: switchyard gateway key check';

function portkey(apiKey) {
  return new Portkey({
    apiKey,
    baseURL: env.gatewayUrl,
    provider: 'openai',
    Authorization: `Bearer ${env.providerApiKey}`,
    customHost: env.upstreamUrl,
    maxRetries: 0,
  });
}

const cases = {
  'portkey-ai apiKey, header mode': async () => {
    const res = await portkey(env.gatewayKey).chat.completions.create({ model: 'gpt-4o-mini', messages });
    if (res?.choices?.[0]?.message?.content !== expected) throw new Error(`unexpected answer ${JSON.stringify(res)}`);
  },
  'portkey-ai wrong apiKey is refused with 401': async () => {
    try {
      await portkey('sy-wrong-key').chat.completions.create({ model: 'gpt-4o-mini', messages });
    } catch (err) {
      if (err?.status === 401) return;
      throw new Error(`expected status 401, got ${err?.status}: ${err?.message}`);
    }
    throw new Error('expected a 401, the call succeeded');
  },
  'openai apiKey as gateway key, named config': async () => {
    const client = new OpenAI({
      apiKey: env.gatewayKey,
      baseURL: env.gatewayUrl,
      maxRetries: 0,
      defaultHeaders: { 'x-portkey-config': env.configName },
    });
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    if (res?.choices?.[0]?.message?.content !== expected) throw new Error(`unexpected answer ${JSON.stringify(res)}`);
  },
};

let failed = 0;
for (const [name, run] of Object.entries(cases)) {
  try {
    await run();
    process.stdout.write(JSON.stringify({ case: name, ok: true }) + '\n');
  } catch (err) {
    failed++;
    process.stdout.write(JSON.stringify({ case: name, ok: false, error: String(err?.message ?? err) }) + '\n');
  }
}
process.exit(failed === 0 ? 0 : 1);
