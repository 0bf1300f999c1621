using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Usage.Tokens;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Usage;

/// <summary>The tokenizer against the reference encodings of npm <c>gpt-tokenizer</c> (tests/node-clients/token-reference.mjs):
/// the same token ids for every text of a varied corpus, in both encodings, and the same chat prompt counts.</summary>
public sealed class TokenReferenceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ids_and_counts_match_gpt_tokenizer_in_both_encodings()
    {
        var texts = Corpus();
        var reference = await RunReferenceAsync(new JsonObject { ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode?)t)]) });
        foreach (var encoding in new[] { "o200k_base", "cl100k_base" })
        {
            var expected = reference["encodings"]![encoding]!.AsArray();
            Assert.Equal(texts.Count, expected.Count);
            var tokenizer = TiktokenEncodings.Get(encoding);
            for (var i = 0; i < texts.Count; i++)
            {
                var ids = expected[i]!["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
                var actual = tokenizer.EncodeToIds(texts[i]).ToArray();
                if (!ids.SequenceEqual(actual))
                {
                    var at = 0;
                    while (at < ids.Length && at < actual.Length && ids[at] == actual[at]) at++;
                    var context = tokenizer.Decode(actual.Skip(Math.Max(0, at - 3)).Take(8));
                    Assert.Fail($"{encoding}, text {i} ({Describe(texts[i])}): first difference at token {at} near {JsonSerializer.Serialize(context)}: " +
                        $"expected [{string.Join(",", ids.Skip(at).Take(8))}], got [{string.Join(",", actual.Skip(at).Take(8))}]");
                }
                Assert.Equal(expected[i]!["count"]!.GetValue<int>(), tokenizer.CountTokens(texts[i]));
            }
        }
        // The public count follows the model's encoding.
        var sample = texts[^1];
        var o200k = reference["encodings"]!["o200k_base"]!.AsArray()[^1]!["count"]!.GetValue<long>();
        var cl100k = reference["encodings"]!["cl100k_base"]!.AsArray()[^1]!["count"]!.GetValue<long>();
        Assert.NotEqual(o200k, cl100k);
        Assert.Equal(o200k, TokenCounter.CountText("gpt-4o", sample));
        Assert.Equal(cl100k, TokenCounter.CountText("gpt-4", sample));
        Assert.Equal(o200k, TokenCounter.CountText("claude-sonnet-4-5", sample));
    }

    [Fact]
    public async Task Chat_prompt_counts_match_encodeChat_and_the_cookbook_formula()
    {
        var chats = new JsonArray
        {
            Chat("gpt-4o", "o200k_base", Message("system", "You are a terse assistant."), Message("user", "What is 2 + 2?")),
            Chat("gpt-4o", "o200k_base", Message("user", "Résumé of 東京 in one line 🙂"), Message("assistant", "Tokyo: capital of Japan."),
                Message("user", "And  its   population?\n\n")),
            Chat("gpt-4", "cl100k_base", Message("system", "Answer in JSON."), Message("user", "{\"q\": \"list three primes\"}")),
            Chat("gpt-4o-mini", "o200k_base", Message("user", "")),
            // Names: gpt-tokenizer's chat format drops the role then, so only the cookbook formula applies.
            Chat("gpt-4o", "o200k_base", Message("system", "Be kind."), Message("user", "hi", name: "example_user")),
            Chat("gpt-4", "cl100k_base", Message("user", "Who wrote this?", name: "alice_01"), Message("assistant", "You did.")),
            // Content parts: the text parts count, the image nothing.
            Chat("gpt-4o", "o200k_base", new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray
                {
                    new JsonObject { ["type"] = "text", ["text"] = "What is in this picture?" },
                    new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "https://example.com/cat.png" } },
                    new JsonObject { ["type"] = "text", ["text"] = " Answer briefly." },
                },
            }),
        };
        var reference = await RunReferenceAsync(new JsonObject { ["chats"] = chats.DeepClone() });
        var results = reference["chats"]!.AsArray();
        Assert.Equal(chats.Count, results.Count);
        var compared = 0;
        for (var i = 0; i < chats.Count; i++)
        {
            var body = new JsonObject { ["model"] = chats[i]!["model"]!.GetValue<string>(), ["messages"] = chats[i]!["messages"]!.DeepClone() };
            var counted = TokenCounter.CountPrompt(body["model"]!.GetValue<string>(), Encoding.UTF8.GetBytes(body.ToJsonString()));
            Assert.Equal(results[i]!["cookbook"]!.GetValue<long>(), counted);
            if (results[i]!["encodeChat"] is { } encodeChat)
            {
                Assert.Equal(encodeChat.GetValue<long>(), counted);
                compared++;
            }
        }
        Assert.Equal(4, compared);
    }

    private async Task<JsonNode> RunReferenceAsync(JsonObject input)
    {
        var file = Path.Combine(Path.GetTempPath(), $"token-reference-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, input.ToJsonString());
        try
        {
            var (stdout, exitCode) = await NodeClients.RunAsync("token-reference.mjs", new Dictionary<string, string> { ["TOKEN_REFERENCE_INPUT"] = file },
                TimeSpan.FromMinutes(2), output, "gpt-tokenizer");
            Assert.Equal(0, exitCode);
            return JsonNode.Parse(stdout)!;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static JsonObject Chat(string model, string encoding, params JsonObject[] messages) =>
        new() { ["model"] = model, ["encoding"] = encoding, ["messages"] = new JsonArray([.. messages]) };

    private static JsonObject Message(string role, string content, string? name = null)
    {
        var message = new JsonObject { ["role"] = role, ["content"] = content };
        if (name is not null) message["name"] = name;
        return message;
    }

    private static string Describe(string text) => text.Length <= 40 ? JsonSerializer.Serialize(text) : JsonSerializer.Serialize(text[..40]) + $"… ({text.Length} chars)";

    /// <summary>Texts chosen to exercise every branch of both split patterns and the byte-level merges.</summary>
    private static List<string> Corpus()
    {
        var texts = new List<string>
        {
            "Hello, world!",
            "The quick brown fox jumps over the lazy dog.",
            "hello",
            " ",
            "\n",
            "a",
            // contractions in every case, which the patterns match case-insensitively
            "I'm sure they'll say it's fine, you've seen we'd DONE it; DON'T, I'M, THEY'LL, We'Re",
            // whitespace runs, tabs, CRLF, trailing and leading space
            "   leading and trailing   ",
            "word\t\ttab\t \n\n\n  indented\r\n\r\nwindows  \n",
            "x" + new string(' ', 40) + "y" + new string('\n', 7) + "z" + new string('\t', 5),
            "    \n    \n",
            // code
            """
            public static int Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);
            // comment with URL https://example.com/path?q=1&r=2#frag
            if (x != null && y >= 0x1F) { return arr[i++] ?? default; }
            """,
            """
            def tokenize(text: str) -> list[int]:
                \"\"\"Docstring.\"\"\"
                return [ord(c) for c in text if c.isalnum()]  # trailing comment
            """,
            """{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7, "n": null}""",
            "SELECT id, name FROM users WHERE created_at > '2024-01-01' ORDER BY id DESC LIMIT 10;",
            "<div class=\"card\"><span>&nbsp;&amp;&lt;</span></div>",
            // numbers
            "12345678901234567890 3.14159265358979323846 1,000,000.00 -42 +7e-10 0x7FFF 2024-08-06T12:34:56Z",
            "Phone: +1 (555) 010-9999; ISBN 978-3-16-148410-0; 1st 2nd 3rd 4th",
            // CJK, Korean, Thai, Arabic, Hebrew, Devanagari (combining marks), Cyrillic, Greek
            "東京は日本の首都です。今日はいい天気ですね！",
            "我们今天去公园散步，然后吃了饺子。",
            "안녕하세요, 만나서 반갑습니다.",
            "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
            "مرحبا بالعالم، كيف حالك؟",
            "שלום עולם",
            "नमस्ते दुनिया, आप कैसे हैं?",
            "Привет, мир! Съешь же ещё этих мягких французских булок.",
            "Γειά σου Κόσμε",
            // accents, precomposed and decomposed (combining acute), ligatures, long s
            "café naïve coöperate façade Zürich São Paulo Ångström",
            "cafe\u0301 nai\u0308ve",
            "ﬁnance ſtraße Straße ÆØÅ æøå",
            "Tiếng Việt có dấu: người, được, những",
            // emoji: single, skin tone, ZWJ family, flags, keycap, variation selector
            "😀 👍🏽 👨‍👩‍👧‍👦 🇯🇵🇫🇷 1️⃣ ❤️ 🧑🏿‍💻",
            "Emoji in text🙂like this🚀!",
            // letters outside the Basic Multilingual Plane and symbols
            "𝐀𝐁𝐂 𝒜𝒷𝒸 𠀀𠀁𝐀's 𝐁'S 𝒷'll 𠀂 ∑∫√∞≠≤ ©®™ €£¥",
            // supplementary digits group by three like ASCII ones; a supplementary mark joins its letter
            "𝟏𝟐𝟑𝟒𝟓 x𝟗𝟗 𐌰𐌱𐌲 a𝅧b 𝐀́",
            // case-insensitive contractions and the long s
            "it'ſ IT'S it'S",
            // special-token strings are ordinary text in a prompt
            "before <|endoftext|> after <|im_start|>user<|im_sep|>hi<|im_end|> <|endofprompt|>",
            // control characters and odd punctuation runs
            "tab\there\u0001\u0002 bell\u0007 ... !!! ??? --- ___ *** ///path/to//file",
            "\"quoted\" 'single' `backtick` «guillemets» „German“ 「Japanese」",
        };
        texts.Add(LongText());
        return texts;
    }

    // A few KB drawn from every script above with a fixed seed: the same text every run, with word and script boundaries
    // in places nobody chose.
    private static string LongText()
    {
        string[] pieces =
        [
            "the", "The", "token", "izer", " ", "  ", "\n", "\n\n", "\t", ",", ".", "!", "?", "'s", "'LL", "42", "3.14", "1000000",
            "東京", "の", "我们", "안녕", "ไทย", "مرحبا", "שלום", "नमस्ते", "Привет", "café", "e\u0301", "😀", "👍🏽", "🇫🇷", "𝐀", "<|endoftext|>",
            "{", "}", "(", ")", "=>", "==", "//", "/*", "*/", "\"", "'", "`", "-", "_", "__init__", "x2", "ABC", "aBc", "snake_case", "camelCase",
        ];
        var random = new Random(20261207);
        var builder = new StringBuilder();
        while (builder.Length < 6000)
        {
            builder.Append(pieces[random.Next(pieces.Length)]);
        }
        return builder.ToString();
    }
}
