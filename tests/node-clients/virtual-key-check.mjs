#!/usr/bin/env node
// Switchyard virtual-key check: the `portkey-ai` SDK's virtualKey option, its provider option with "@slug", and the `openai`
// SDK with model "@slug/model". The client holds no provider key; the gateway's virtual key supplies it.
//
// Environment: GATEWAY_URL (…/v1), VIRTUAL_KEY (an OpenAI virtual key whose upstream echoes).
// Output: one JSON line per case ({"case","ok","error"?}). Exit code 0 when every case passed, 1 otherwise.

for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|PORTKEY)_/i.test(name)) delete process.env[name];
}
const { default: OpenAI } = await import('openai');
const { Portkey } = await import('portkey-ai');

const gatewayUrl = (process.env.GATEWAY_URL ?? '').replace(/\/+$/, '');
const slug = process.env.VIRTUAL_KEY ?? '';
const messages = [{ role: 'user', content: 'switchyard virtual key check' }];
const expected = 'echo: switchyard virtual key check';

function check(res) {
  if (res?.choices?.[0]?.message?.content !== expected) throw new Error(`unexpected answer ${JSON.stringify(res)}`);
}

const cases = {
  'portkey-ai virtualKey': async () => {
    const client = new Portkey({ baseURL: gatewayUrl, virtualKey: slug, maxRetries: 0 });
    check(await client.chat.completions.create({ model: 'gpt-4o-mini', messages }));
  },
  'portkey-ai provider @slug': async () => {
    const client = new Portkey({ baseURL: gatewayUrl, provider: `@${slug}`, maxRetries: 0 });
    check(await client.chat.completions.create({ model: 'gpt-4o-mini', messages }));
  },
  'openai model @slug/model': async () => {
    const client = new OpenAI({ apiKey: 'not-a-provider-key', baseURL: gatewayUrl, maxRetries: 0 });
    check(await client.chat.completions.create({ model: `@${slug}/gpt-4o-mini`, messages }));
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
