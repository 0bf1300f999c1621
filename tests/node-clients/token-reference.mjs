// Reference token encodings for the tokenizer tests (tests/Switchyard.Tests/Usage/TokenCounterTests.cs).
//
// input:  {"texts": ["..."], "chats": [{"model": "gpt-4o", "encoding": "o200k_base", "messages": [{"role": "user", "content": "...", "name": "..."}]}]}
//         from the file named by TOKEN_REFERENCE_INPUT, else from stdin
// stdout: {"encodings": {"o200k_base": [{"ids": [...], "count": n}], "cl100k_base": [...]},
//          "chats": [{"encoding": "o200k_base", "encodeChat": n | null, "cookbook": n}]}
//
// Texts are encoded as ordinary text: a special-token string such as "<|endoftext|>" inside user text is split like any
// other characters, which is how a provider's API treats message content (gpt-tokenizer would throw on it by default).
import { readFileSync } from 'node:fs'
import * as o200k from 'gpt-tokenizer/encoding/o200k_base'
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base'

const encodings = { o200k_base: o200k, cl100k_base: cl100k }
const ordinary = { disallowedSpecial: new Set() }

async function readInput() {
  if (process.env.TOKEN_REFERENCE_INPUT) return readFileSync(process.env.TOKEN_REFERENCE_INPUT, 'utf8')
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}
const input = JSON.parse(await readInput())

const output = { encodings: {}, chats: [] }
for (const [name, encoding] of Object.entries(encodings)) {
  output.encodings[name] = (input.texts ?? []).map((text) => {
    const ids = encoding.encode(text, ordinary)
    return { ids, count: encoding.countTokens(text, ordinary) }
  })
}

// OpenAI cookbook ("How to count tokens with tiktoken"), for the gpt-4o/gpt-4 family: every message costs 3 tokens,
// plus the tokens of each of its values (role, content, name), plus 1 when it has a name; every reply is primed with 3.
// Array content counts its text parts; other parts (images, audio) count nothing here, as in the gateway.
function cookbook(encoding, messages) {
  const count = (text) => encoding.encode(text, ordinary).length
  let total = 3
  for (const message of messages) {
    total += 3
    total += count(message.role)
    if (typeof message.content === 'string') {
      total += count(message.content)
    } else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (part.type === 'text') total += count(part.text)
      }
    }
    if (message.name !== undefined) total += count(message.name) + 1
  }
  return total
}

for (const chat of input.chats ?? []) {
  const encodingName = chat.encoding ?? 'o200k_base'
  const encoding = encodings[encodingName]
  // gpt-tokenizer's chat format writes the name *instead of* the role, so it only agrees with the cookbook without names;
  // it also only takes string content.
  const plain = chat.messages.every((m) => m.name === undefined && typeof m.content === 'string')
  output.chats.push({
    encoding: encodingName,
    encodeChat: plain ? encoding.encodeChat(chat.messages, chat.model).length : null,
    cookbook: cookbook(encoding, chat.messages),
  })
}

process.stdout.write(JSON.stringify(output))
