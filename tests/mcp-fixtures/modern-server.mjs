// Switchyard's own modern-era (2026-07-28) MCP test server, on @modelcontextprotocol/server 2.4.0. It also answers
// 2025-era traffic (a stateless legacy initialize and calls), so it serves both eras on any path.
//
// Settings (environment):
//   PORT               port on 127.0.0.1 (0 = any free port); the bound port is printed on stderr as FIXTURE_PORT=<n>
//   TOOL_DESCRIPTION   description of the `describe` tool (pinning tests restart the server with another one)
//   REQUIRE_HEADER     "Name:value": every request without exactly that header gets 401 (credential-injection tests)
//   RECORD_HEADERS     a file: each request's headers (names lower-cased) are appended to it as one JSON line
//                      {"method","url","headers":{name:value}} (header-forwarding tests)
// Tools: add {a,b} -> "a+b"; echo {message} -> "Echo: <message>"; describe {} -> its own description.
import http from 'node:http';
import { appendFileSync } from 'node:fs';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import * as z from 'zod';

const port = Number(process.env.PORT ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number (0-65535), got "${process.env.PORT}"`);
  process.exit(2);
}
const describeText = process.env.TOOL_DESCRIPTION || 'Describes this test server (the text comes from TOOL_DESCRIPTION)';
const recordFile = process.env.RECORD_HEADERS || '';
let required = null;
if (process.env.REQUIRE_HEADER) {
  const colon = process.env.REQUIRE_HEADER.indexOf(':');
  if (colon <= 0) {
    console.error('REQUIRE_HEADER must be "Name:value"');
    process.exit(2);
  }
  required = {
    name: process.env.REQUIRE_HEADER.slice(0, colon).trim().toLowerCase(),
    value: process.env.REQUIRE_HEADER.slice(colon + 1).trim(),
  };
}

function buildServer() {
  const server = new McpServer({ name: 'switchyard-modern-fixture', version: '1.0.0' });
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  server.registerTool(
    'echo',
    { description: 'Echoes the message back', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }),
  );
  server.registerTool(
    'describe',
    { description: describeText, inputSchema: z.object({}) },
    async () => ({ content: [{ type: 'text', text: describeText }] }),
  );
  return server;
}

const handler = createMcpHandler(() => buildServer(), { onerror: () => {} });

function headerRecord(req) {
  const headers = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  return headers;
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const headers = headerRecord(req);
    if (recordFile) {
      appendFileSync(recordFile, JSON.stringify({ method: req.method, url: req.url, headers }) + '\n');
    }
    if (required && headers[required.name] !== required.value) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'unauthorized', message: `header ${required.name} missing or wrong` }));
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const response = await handler.fetch(
      new Request(`http://127.0.0.1:${httpServer.address().port}${req.url}`, {
        method: req.method,
        headers,
        body: hasBody ? Buffer.concat(chunks) : undefined,
        signal: abort.signal,
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) {
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  } catch (error) {
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'fixture_error', message: String(error?.message ?? error) }));
    } else {
      res.destroy();
    }
  }
});

httpServer.listen({ port, host: '127.0.0.1' }, () => {
  process.stderr.write(`FIXTURE_PORT=${httpServer.address().port}\n`);
});

const stop = () => httpServer.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
