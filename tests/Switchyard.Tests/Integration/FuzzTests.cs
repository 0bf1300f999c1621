using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Integration;

/// <summary>
/// Malformed and hostile input over every route, in header mode and with configs, against the real gateway and healthy simulators.
/// Whatever arrives, the gateway must not answer with a 5xx of its own, every non-2xx must be JSON with a message, and it must keep serving.
/// </summary>
/// <remarks>
/// Each test collects every offending case and fails once with the whole list, so one run shows all of them. A 5xx is blamed on the
/// gateway unless a simulator sent a 5xx (or broke off) while that case ran. Random cases use fixed seeds so a failure can be replayed.
/// </remarks>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const string Key = "sk-fuzz";

    private static readonly (HttpMethod Method, string Path)[] JsonRoutes =
    [
        (HttpMethod.Post, "/v1/chat/completions"), (HttpMethod.Post, "/v1/completions"), (HttpMethod.Post, "/v1/embeddings"),
        (HttpMethod.Post, "/v1/messages"), (HttpMethod.Post, "/v1/responses"), (HttpMethod.Post, "/v1/images/generations"),
        (HttpMethod.Post, "/v1/audio/speech"), (HttpMethod.Post, "/v1/moderations"), (HttpMethod.Post, "/v1/rerank"),
    ];

    private static readonly (HttpMethod Method, string Path)[] OtherRoutes =
    [
        (HttpMethod.Get, "/v1/models"), (HttpMethod.Post, "/v1/models"), (HttpMethod.Post, "/v1/files"), (HttpMethod.Get, "/v1/files"),
        (HttpMethod.Post, "/v1/audio/transcriptions"), (HttpMethod.Post, "/v1/no/such/route"), (HttpMethod.Get, "/v1"),
        (HttpMethod.Post, "/nowhere"), (HttpMethod.Delete, "/v1/chat/completions"), (HttpMethod.Put, "/v1/embeddings"),
    ];

    private static (HttpMethod Method, string Path)[] AllRoutes => [.. JsonRoutes, .. OtherRoutes];

    /// <summary>A well-formed body for each route, the seed of the mutation cases.</summary>
    private static string ValidBody(string path) => path switch
    {
        "/v1/completions" => """{"model":"gpt-3.5-turbo-instruct","prompt":"say hi","max_tokens":5}""",
        "/v1/embeddings" => """{"model":"text-embedding-3-small","input":["alpha","beta"]}""",
        "/v1/messages" => """{"model":"claude-sonnet-4-5","max_tokens":16,"system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}""",
        "/v1/responses" => """{"model":"gpt-4o-mini","instructions":"be brief","input":[{"role":"user","content":"hi"}]}""",
        "/v1/images/generations" => """{"model":"dall-e-3","prompt":"a cat"}""",
        "/v1/audio/speech" => """{"model":"tts-1","input":"hello","voice":"alloy"}""",
        "/v1/moderations" => """{"input":"hello"}""",
        "/v1/rerank" => """{"model":"rerank-1","query":"q","documents":["a","b"]}""",
        _ => """{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"response_format":{"type":"json_object"}}""",
    };

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Deep(string open, string close, int levels) => string.Concat(Enumerable.Repeat(open, levels)) + string.Concat(Enumerable.Repeat(close, levels));

    /// <summary>Bodies that are not what any route expects.</summary>
    private static IEnumerable<(string Name, byte[] Body)> HostileBodies()
    {
        yield return ("empty", []);
        yield return ("whitespace", Utf8(" \r\n\t"));
        yield return ("plain text", Utf8("hello there"));
        yield return ("json array", Utf8("[1,2,3]"));
        yield return ("json string", Utf8("\"hello\""));
        yield return ("json number", Utf8("42"));
        yield return ("json null", Utf8("null"));
        yield return ("json true", Utf8("true"));
        yield return ("unclosed object", Utf8("{\"model\":"));
        yield return ("two objects", Utf8("{}{}"));
        yield return ("trailing junk", Utf8(ValidBody("/v1/chat/completions") + " junk"));
        yield return ("byte order mark", [0xEF, 0xBB, 0xBF, .. Utf8(ValidBody("/v1/chat/completions"))]);
        yield return ("NaN literal", Utf8("{\"model\":\"gpt-4o-mini\",\"temperature\":NaN,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        yield return ("comment", Utf8("{/* c */\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        yield return ("empty object", Utf8("{}"));
        yield return ("deep arrays 10000", Utf8("{\"model\":\"gpt-4o-mini\",\"messages\":" + Deep("[", "]", 10_000) + "}"));
        yield return ("deep objects 10000", Utf8("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":" + Deep("{\"a\":", "}", 10_000).Replace("{\"a\":}", "{\"a\":1}") + "}]}"));
        yield return ("deep arrays 60", Utf8("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":" + Deep("[", "]", 60) + "}],\"input\":" + Deep("[", "]", 60) + ",\"prompt\":" + Deep("[", "]", 60) + "}"));
        yield return ("invalid utf-8 C3 28", [.. Utf8("{\"model\":\"gpt-4o-mini\",\"input\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"caf"), 0xC3, 0x28, .. Utf8("\"}]}")]);
        yield return ("invalid utf-8 FF", [.. Utf8("{\"model\":\""), 0xFF, .. Utf8("\",\"messages\":[]}")]);
        yield return ("invalid utf-8 in a key", [.. Utf8("{\"mo"), 0xC0, 0xAF, .. Utf8("del\":\"x\"}")]);
        yield return ("truncated utf-8", [.. Utf8("{\"model\":\"gpt-4o-mini\",\"input\":\""), 0xE2, 0x82]);
        yield return ("lone surrogate escape in content", Utf8("{\"model\":\"gpt-4o-mini\",\"input\":\"\\uD800\",\"prompt\":\"\\uDFFF\",\"messages\":[{\"role\":\"user\",\"content\":\"\\uD800x\"}]}"));
        yield return ("lone surrogate escape in model", Utf8("{\"model\":\"\\uD800\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        yield return ("escaped NUL", Utf8("{\"model\":\"gpt\\u0000\",\"input\":\"\\u0000\",\"messages\":[{\"role\":\"user\\u0000\",\"content\":\"\\u0000\"}]}"));
        foreach (var model in new[] { "123", "{}", "[]", "null", "\"\"", "true", "1e400", "\"" + new string('m', 100_000) + "\"", "\"../../admin\"", "\"gpt-4o-mini?x=1#y\"" })
        {
            yield return ($"model {Preview(model)}", Utf8($"{{\"model\":{model},\"input\":\"x\",\"prompt\":\"x\",\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}]}}"));
        }
        foreach (var messages in new[]
                 {
                     "\"hello\"", "{}", "[1]", "null", "[]", "[{}]", "[null]", "[{\"role\":5,\"content\":{}}]", "[{\"role\":\"user\"}]",
                     "[{\"role\":\"user\",\"content\":null}]", "[{\"role\":\"user\",\"content\":[1,null,{}]}]",
                     "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":5},{\"type\":\"nope\"},{\"type\":\"text\",\"text\":7}]}]",
                     "[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"data\":5}}]}]",
                     "[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":5,\"function\":{\"name\":null,\"arguments\":{}}}]},{\"role\":\"tool\",\"content\":[]}]",
                     "[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":1,\"input\":\"x\"}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":{}}]}]",
                     "[{\"role\":\"developer\",\"content\":\"x\"},{\"role\":\"system\",\"content\":[{\"type\":\"text\"}]}]",
                     "[{\"role\":\"user\",\"content\":\"x\",\"role\":\"assistant\"}]",
                 })
        {
            yield return ($"messages {Preview(messages)}", Utf8($"{{\"model\":\"gpt-4o-mini\",\"max_tokens\":8,\"input\":{messages},\"messages\":{messages}}}"));
        }
        foreach (var stream in new[] { "\"yes\"", "1", "{}", "null", "true,\"stream_options\":\"x\"", "true,\"stream_options\":{\"include_usage\":5}" })
        {
            yield return ($"stream {stream}", Utf8($"{{\"model\":\"gpt-4o-mini\",\"stream\":{stream},\"input\":\"x\",\"max_tokens\":8,\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}]}}"));
        }
        foreach (var extra in new[]
                 {
                     "\"max_tokens\":1e400", "\"max_tokens\":-1", "\"max_tokens\":\"8\"", "\"max_tokens\":99999999999999999999",
                     "\"temperature\":\"hot\"", "\"tools\":\"x\"", "\"tools\":[1]", "\"tools\":[{\"type\":\"function\",\"function\":5}]",
                     "\"tool_choice\":5", "\"tool_choice\":{\"type\":\"function\",\"function\":{}}", "\"response_format\":\"x\"",
                     "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":5}", "\"system\":5", "\"system\":[{\"type\":\"text\",\"text\":null}]",
                     "\"instructions\":[]", "\"input\":{}", "\"prompt\":5", "\"documents\":\"x\"", "\"stop\":{}", "\"metadata\":\"x\"",
                     "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":\"x\"}", "\"reasoning\":5", "\"model\":\"a\",\"model\":{}",
                     "\"system\":{}", "\"system\":[5]", "\"\\u006dodel\":\"escaped duplicate\"", "\"nested\":{\"a\":1,\"b\":{\"a\":2},\"a\":3}",
                 })
        {
            yield return ($"field {Preview(extra)}", Utf8($"{{\"model\":\"gpt-4o-mini\",\"input\":\"x\",\"prompt\":\"x\",\"query\":\"q\",\"documents\":[\"a\"],\"voice\":\"alloy\",\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}],{extra}}}"));
        }
    }

    /// <summary>Bodies too large to send on every route and mode.</summary>
    private static IEnumerable<(string Name, byte[] Body)> HeavyBodies()
    {
        yield return ("8 MB string", Utf8("{\"model\":\"gpt-4o-mini\",\"input\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('a', 8 * 1024 * 1024) + "\"}]}"));
        yield return ("1 MB key", Utf8("{\"" + new string('k', 1024 * 1024) + "\":1,\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        yield return ("100000 keys", Utf8("{" + string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"\"k{i}\":{i}")) + ",\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        yield return ("20000 messages", Utf8("{\"model\":\"gpt-4o-mini\",\"max_tokens\":4,\"messages\":[" + string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":\"x\"}", 20_000)) + "]}"));
    }

    private static string Preview(string text) => text.Length <= 40 ? text : text[..37] + "…";

    /// <summary>The simulators, the gateway, and the bookkeeping of one fuzz run.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private readonly List<string> _failures = [];

        private Harness(OpenAiSimulator openAi, AnthropicSimulator anthropic, TestGateway gateway)
        {
            OpenAi = openAi;
            Anthropic = anthropic;
            Gateway = gateway;
        }

        public OpenAiSimulator OpenAi { get; }

        public AnthropicSimulator Anthropic { get; }

        public TestGateway Gateway { get; }

        public int Sent { get; private set; }

        public int Relayed5xx { get; private set; }

        public int KestrelRefused { get; private set; }

        public List<string> Skipped { get; } = [];

        /// <summary>Leaves out a case that reproduces a known defect in code this test cannot fix; the defect has its own skipped test.</summary>
        public void Skip(string label, string reason) => Skipped.Add($"{label}: skipped, {reason}");

        public IReadOnlyList<string> Failures => _failures;

        public static async Task<Harness> StartAsync(Func<OpenAiSimulator, IReadOnlyDictionary<string, string>>? configs = null)
        {
            var openAi = await OpenAiSimulator.StartAsync();
            var anthropic = await AnthropicSimulator.StartAsync();
            var files = new Dictionary<string, string>
            {
                // A named config with many targets behind one loadbalance node.
                ["fuzz-lb.json"] = "{\"strategy\":{\"mode\":\"loadbalance\"},\"custom_host\":\"" + openAi.BaseUrl + "\",\"targets\":["
                                   + string.Join(",", Enumerable.Range(0, 200).Select(i => $"{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"weight\":{i % 7}}}")) + "]}",
            };
            foreach (var (name, text) in configs?.Invoke(openAi) ?? new Dictionary<string, string>())
            {
                files[name] = text;
            }
            var gateway = await TestGateway.StartAsync(files);
            return new Harness(openAi, anthropic, gateway);
        }

        /// <summary>The ways a request can say where it goes.</summary>
        public IEnumerable<(string Name, (string, string)[] Headers)> Modes()
        {
            yield return ("header mode", Requests.HeaderMode(OpenAi.BaseUrl, Key));
            yield return ("openai target with overrides", [("Authorization", "Bearer " + Key), ("x-portkey-config",
                $"{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"custom_host\":\"{OpenAi.BaseUrl}\",\"retry\":{{\"attempts\":1}},\"override_params\":{{\"model\":\"gpt-4o\",\"temperature\":0.1,\"max_tokens\":8}}}}")]);
            yield return ("anthropic target (translated)", [("x-portkey-config",
                $"{{\"strategy\":{{\"mode\":\"fallback\",\"on_status_codes\":[500]}},\"targets\":[{{\"provider\":\"anthropic\",\"api_key\":\"{Key}\",\"custom_host\":\"{Anthropic.BaseUrl}\"}},{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"custom_host\":\"{OpenAi.BaseUrl}\"}}]}}")]);
            yield return ("named loadbalance config", [("x-portkey-config", "fuzz-lb")]);
        }

        public HttpRequestMessage Request(HttpMethod method, string path, byte[]? body, string? contentType, (string, string)[] headers)
        {
            var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                if (contentType is not null)
                {
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
                }
            }
            return TestGateway.With(request, headers);
        }

        /// <summary>Sends one case and records it if the answer breaks the rules.</summary>
        /// <param name="kestrelMayRefuse">
        /// Kestrel answers a request it will not parse (bad header bytes, size limits) itself, with an empty 400, 414 or 431,
        /// before the gateway runs; such an answer has no body the gateway could shape, so it is accepted when this is set.
        /// </param>
        public async Task CheckAsync(string label, HttpRequestMessage request, HttpClient? client = null, bool kestrelMayRefuse = false)
        {
            Sent++;
            var openAiBefore = OpenAi.Requests.Count;
            var anthropicBefore = Anthropic.Requests.Count;
            HttpResponseMessage response;
            try
            {
                response = await (client ?? Gateway.Client).SendAsync(request);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                _failures.Add($"{label}: no answer ({ex.GetType().Name}: {ex.Message})");
                return;
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                var body = await response.Content.ReadAsByteArrayAsync();
                if (kestrelMayRefuse && status is 400 or 414 or 431 && body.Length == 0)
                {
                    KestrelRefused++;
                    return;
                }
                if (status >= 500)
                {
                    if (SimulatorFailed(openAiBefore, anthropicBefore))
                    {
                        Relayed5xx++;
                    }
                    else
                    {
                        _failures.Add($"{label}: the gateway answered {status}: {Text(body)}");
                        return;
                    }
                }
                if (status >= 400 && !HasMessage(body))
                {
                    _failures.Add($"{label}: {status} without a JSON message: {Text(body)}");
                }
            }
        }

        private bool SimulatorFailed(int openAiBefore, int anthropicBefore) =>
            OpenAi.Requests.Skip(openAiBefore).Concat(Anthropic.Requests.Skip(anthropicBefore))
                .Any(r => r.StatusCode >= 500 || r.IsFinished && r.Aborted && r.StatusCode == 0);

        /// <summary>A plain request still gets a real answer from the provider.</summary>
        public async Task AssertStillServesAsync()
        {
            var response = await Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("still there?"), Requests.HeaderMode(OpenAi.BaseUrl, Key)));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"after the fuzz cases a normal request got {(int)response.StatusCode}: {text}");
            Assert.Contains("echo: still there?", text);
        }

        public void AssertNoFailures(ITestOutputHelper output)
        {
            output.WriteLine($"{Sent} cases sent; {Relayed5xx} 5xx relayed from a simulator; {KestrelRefused} refused by Kestrel; {Skipped.Count} skipped; {_failures.Count} failures");
            foreach (var skipped in Skipped)
            {
                output.WriteLine(skipped);
            }
            foreach (var failure in _failures)
            {
                output.WriteLine(failure);
            }
            Assert.True(_failures.Count == 0, $"{_failures.Count} of {Sent} cases broke the rules:\n" + string.Join("\n", _failures.Take(60)));
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Anthropic.DisposeAsync();
            await OpenAi.DisposeAsync();
        }
    }

    private static string Text(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length <= 300 ? text : text[..300] + "…";
    }

    /// <summary>Portkey's <c>{"message"}</c>, OpenAI's <c>{"error":{"message"}}</c> or Anthropic's <c>{"type":"error","error":{"message"}}</c>.</summary>
    private static bool HasMessage(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            if (root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String && m.GetString()!.Length > 0)
            {
                return true;
            }
            return root.TryGetProperty("error", out var error)
                   && (error.ValueKind == JsonValueKind.String
                       || error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var em) && em.ValueKind == JsonValueKind.String);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Defects the fuzz cases found, each pinned by its own test with the exact request.

    [Fact]
    public async Task A_non_ascii_trace_id_is_a_400()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = gw.BaseUrl };
        // POST /v1/chat/completions, x-portkey-provider: openai, Authorization: Bearer sk-fuzz, x-portkey-custom-host: <simulator>, x-portkey-trace-id: café (UTF-8)
        var response = await utf8.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), [.. Requests.HeaderMode(sim.BaseUrl, Key), ("x-portkey-trace-id", "café")]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("trace", (await response.JsonAsync()).GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("Authorization", "Bearer café")]
    [InlineData("x-portkey-openai-organization", "organización")]
    [InlineData("x-portkey-openai-project", "日本語")]
    public async Task A_non_ascii_provider_header_is_a_400(string name, string value)
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = gw.BaseUrl };
        // POST /v1/chat/completions in header mode against the simulator, with the header <name>: <value> sent as UTF-8.
        var headers = Requests.HeaderMode(sim.BaseUrl, Key).Where(h => !h.Item1.Equals(name, StringComparison.OrdinalIgnoreCase)).Append((name, value)).ToArray();
        var response = await utf8.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), headers));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task A_messages_system_object_is_a_400()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        // POST /v1/messages, header mode (x-portkey-provider: openai, custom host = simulator), body below.
        var body = """{"model":"gpt-4o-mini","max_tokens":8,"system":{},"messages":[{"role":"user","content":"x"}]}""";
        var response = await gw.SendAsync(TestGateway.Post("/v1/messages", body, Requests.HeaderMode(sim.BaseUrl, Key)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Hostile_bodies_on_every_route_and_mode_never_get_a_gateway_5xx()
    {
        await using var h = await Harness.StartAsync();
        var modes = h.Modes().ToList();
        foreach (var (method, path) in AllRoutes)
        {
            foreach (var (mode, headers) in modes)
            {
                foreach (var (name, body) in HostileBodies())
                {
                    var label = $"{method} {path} [{mode}] body {name}";
                    await h.CheckAsync(label, h.Request(method, path, body, "application/json", headers));
                }
                await h.CheckAsync($"{method} {path} [{mode}] no body", h.Request(method, path, null, null, headers));
                await h.CheckAsync($"{method} {path} [{mode}] text/plain", h.Request(method, path, Utf8(ValidBody(path)), "text/plain", headers));
                await h.CheckAsync($"{method} {path} [{mode}] multipart", h.Request(method, path, Utf8("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--"), "multipart/form-data; boundary=b", headers));
                await h.CheckAsync($"{method} {path} [{mode}] json with charset", h.Request(method, path, Utf8(ValidBody(path)), "application/json; charset=utf-16", headers));
            }
            await h.CheckAsync($"{method} {path} [no provider] valid body", h.Request(method, path, Utf8(ValidBody(path)), "application/json", []));
        }
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/embeddings" })
        {
            foreach (var (mode, headers) in modes.Take(3))
            {
                foreach (var (name, body) in HeavyBodies())
                {
                    await h.CheckAsync($"POST {path} [{mode}] body {name}", h.Request(HttpMethod.Post, path, body, "application/json", headers));
                }
            }
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }

    [Fact]
    public async Task Random_byte_mutations_of_valid_requests_never_get_a_gateway_5xx()
    {
        await using var h = await Harness.StartAsync();
        var modes = h.Modes().ToList();
        var random = new Random(20261207);
        byte[] interesting = [.. "{}[]\":,\\0-e.tfn "u8, 0x00, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF];
        for (var i = 0; i < 400; i++)
        {
            var (method, path) = JsonRoutes[random.Next(JsonRoutes.Length)];
            var (mode, headers) = modes[random.Next(modes.Count)];
            var body = Mutate(Utf8(ValidBody(path)), random, interesting);
            var label = $"mutation #{i} POST {path} [{mode}] body(base64) {Convert.ToBase64String(body)}";
            await h.CheckAsync(label, h.Request(method, path, body, "application/json", headers));
        }
        // The config text is data from the client too.
        var config = modes[1].Headers.Single(x => x.Item1 == "x-portkey-config").Item2;
        for (var i = 0; i < 200; i++)
        {
            var mutated = Encoding.ASCII.GetString(Mutate(Encoding.ASCII.GetBytes(config), random, [.. "{}[]\":,\\0-e.tfn "u8])
                .Select(b => b is >= 0x20 and < 0x7F ? b : (byte)'?').ToArray());
            var label = $"config mutation #{i} x-portkey-config: {mutated}";
            await h.CheckAsync(label, h.Request(HttpMethod.Post, "/v1/chat/completions", Utf8(ValidBody("/v1/chat/completions")), "application/json",
                [("Authorization", "Bearer " + Key), ("x-portkey-config", mutated)]));
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }

    private static byte[] Mutate(byte[] seed, Random random, byte[] interesting)
    {
        var bytes = new List<byte>(seed);
        var count = random.Next(1, 7);
        for (var m = 0; m < count && bytes.Count > 0; m++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = interesting[random.Next(interesting.Length)];
                    break;
                case 2:
                    bytes.Insert(at, interesting[random.Next(interesting.Length)]);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at));
                    break;
                case 4:
                    var length = Math.Min(random.Next(1, 16), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                case 5:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes[at] = (byte)random.Next(256);
                    break;
            }
        }
        return [.. bytes];
    }

    private static string Config(object value) => JsonSerializer.Serialize(value);

    /// <summary>Configs a client might send by mistake or on purpose.</summary>
    private static IEnumerable<(string Name, string Config)> HostileConfigs(OpenAiSimulator openAi, Uri anthropic)
    {
        var host = openAi.BaseUrl.ToString();
        string Target(string extra = "") => $"{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"custom_host\":\"{host}\"{extra}}}";

        // Nested as deep as a header allows: far past the parser's depth limit.
        var nested = Target();
        for (var i = 0; i < 400; i++)
        {
            nested = $"{{\"strategy\":{{\"mode\":\"fallback\"}},\"targets\":[{nested}]}}";
        }
        yield return ("400 nested fallbacks", nested);
        var nested30 = Target();
        for (var i = 0; i < 30; i++)
        {
            nested30 = $"{{\"strategy\":{{\"mode\":\"{(i % 2 == 0 ? "fallback" : "single")}\"}},\"targets\":[{nested30}]}}";
        }
        yield return ("30 nested strategies", nested30);
        yield return ("1000 targets", $"{{\"strategy\":{{\"mode\":\"loadbalance\"}},\"custom_host\":\"{host}\",\"targets\":[{string.Join(",", Enumerable.Repeat("{\"provider\":\"openai\"}", 1000))}]}}");
        foreach (var weight in new[] { "-1", "0", "1e308", "1e400", "\"NaN\"", "NaN", "-0.0", "4.9e-324", "null", "[]", "\"1\"" })
        {
            yield return ($"weights {weight}", $"{{\"strategy\":{{\"mode\":\"loadbalance\"}},\"targets\":[{Target($",\"weight\":{weight}")},{Target($",\"weight\":{weight}")}]}}");
        }
        foreach (var pattern in new[] { "(a+)+$", "(a|aa)+$", "(.*a){25}", "^(([a-z])+.)+[A-Z]([a-z])+$", "(", "a{2147483647}", "(?<x>a)\\\\k<y>", "\\\\p{Nope}", "[" })
        {
            var query = $"{{\"params.model\":{{\"$regex\":\"{pattern}\"}}}}";
            yield return ($"regex {pattern}", $"{{\"strategy\":{{\"mode\":\"conditional\",\"conditions\":[{{\"query\":{query},\"then\":\"a\"}}],\"default\":\"a\"}},\"targets\":[{Target(",\"name\":\"a\"")}]}}");
        }
        foreach (var query in new[]
                 {
                     "{\"$and\":5}", "{\"$or\":[]}", "{\"metadata.x\":{\"$in\":5}}", "{\"metadata\":{\"$gt\":\"x\"}}", "{\"params.messages.99999.content\":{\"$exists\":true}}",
                     "{\"params.model\":{\"$length\":{\"$gt\":\"x\"}}}", "{\"url.pathname\":{\"$eq\":null}}", "{\"request.estimated_tokens\":{\"$gt\":1e400}}",
                     "{\"$not\":{}}", "{\"\":1}", "{\"params..model\":1}", "{\"params.model[5]\":1}",
                 })
        {
            yield return ($"condition {query}", $"{{\"strategy\":{{\"mode\":\"conditional\",\"conditions\":[{{\"query\":{query},\"then\":\"a\"}}],\"default\":\"a\"}},\"targets\":[{Target(",\"name\":\"a\"")}]}}");
        }
        yield return ("conditions not an array", $"{{\"strategy\":{{\"mode\":\"conditional\",\"conditions\":{{}}}},\"targets\":[{Target()}]}}");
        yield return ("then a number", $"{{\"strategy\":{{\"mode\":\"conditional\",\"conditions\":[{{\"query\":{{}},\"then\":5}}]}},\"targets\":[{Target()}]}}");
        foreach (var customHost in new[]
                 {
                     "", " ", "localhost", "http://", "http://:80", "http://127.0.0.1:0/v1", "http://127.0.0.1:99999/v1", "http://127.0.0.1:-1/v1",
                     "http://127.0.0.1:abc/v1", "ftp://127.0.0.1/v1", "javascript:alert(1)", "http://user:pw@127.0.0.1/v1", "http://127.0.0.1/v1?x=1#y",
                     "http://[::ffff:169.254.169.254]/", "http://169.254.169.254/latest", "http://0x7f.1/v1", "http://ä.localhost/v1",
                     "http://" + new string('a', 5000) + ".com/v1", "//127.0.0.1/v1", "http://127.0.0.1./v1", "http://[fe80::1%25eth0]/v1",
                     // Accepted hosts: they lead to the simulator (an unreachable one would be a fair 502, not a gateway fault).
                     $"http://127.0.0.1:{openAi.Port}/%zz", $"http://127.0.0.1:{openAi.Port}/\u0000", $"HTTP://127.0.0.1:{openAi.Port}/V1",
                     $"http://127.0.0.1:{openAi.Port}/v1/../../v1/", $"http://127.0.0.1:{openAi.Port}/v1/chat/completions?x=",
                 })
        {
            yield return ($"custom_host {Preview(customHost)}", $"{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"custom_host\":{JsonSerializer.Serialize(customHost)}}}");
        }
        foreach (var op in new[] { "[]", "\"x\"", "null", "{\"messages\":5}", "{\"messages\":null}", "{\"model\":null}", "{\"model\":{\"a\":[1]}}", "{\"stream\":\"yes\"}",
                     "{\"stream\":true}", "{\"tools\":5}", "{\"max_tokens\":-5}", "{\"input\":{}}", "{\"prompt\":[]}", "{\"system\":{}}", "{\"\":1}", "{\"model\":\"\\uD800\"}" })
        {
            yield return ($"override_params {op}", $"{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"custom_host\":\"{host}\",\"override_params\":{op}}}");
            yield return ($"override_params {op} on anthropic", $"{{\"provider\":\"anthropic\",\"api_key\":\"{Key}\",\"custom_host\":\"{anthropic}\",\"override_params\":{op}}}");
        }
        foreach (var setting in new[]
                 {
                     "\"retry\":{\"attempts\":-1}", "\"retry\":{\"attempts\":1e9}", "\"retry\":{\"attempts\":\"3\"}", "\"retry\":{\"attempts\":5.5}",
                     "\"retry\":{\"attempts\":2147483647,\"on_status_codes\":[0,99999]}", "\"retry\":5", "\"request_timeout\":0", "\"request_timeout\":-1",
                     "\"request_timeout\":1e20", "\"request_timeout\":\"5\"", "\"request_timeout\":1", "\"cache\":{\"mode\":\"semantic\"}", "\"cache\":\"simple\"",
                     "\"cache\":{\"mode\":\"simple\",\"max_age\":1e30}", "\"cache\":[]", "\"forward_headers\":[\"authorization\",\"x-portkey-config\",\"host\",\"content-length\"]",
                     "\"forward_headers\":[\"bad header\",\"\",\"\\u0000\"]", "\"forward_headers\":[5]", "\"forward_headers\":\"x\"", "\"strategy\":[]", "\"strategy\":null",
                     "\"strategy\":{\"mode\":\"\"}", "\"strategy\":{\"mode\":5}", "\"strict_open_ai_compliance\":\"no\"", "\"virtual_key\":\"vk\"", "\"weight\":1e400",
                     "\"name\":{}", "\"api_key\":5", "\"api_key\":\"\"", "\"api_key\":\"k\\r\\nx-injected: 1\"", "\"api_key\":\"ключ\"", "\"openai_organization\":\"org\\r\\nx: y\"",
                     "\"openai_organization\":\"организация\"", "\"openai_organization\":{}", "\"provider\":\"OPENAI\"", "\"provider\":\"\"",
                     "\"provider\":5", "\"provider\":\"ollama\"", "\"provider\":\"bedrock\"", "\"provider\":\"vertex-ai\"", "\"provider\":\"azure-openai\"",
                     "\"provider\":\"google\"", "\"provider\":\"azure-openai\",\"resource_name\":\"../x\",\"deployment_id\":\"a/b?c\"",
                     "\"provider\":\"bedrock\",\"aws_region\":\"../../x\",\"aws_access_key_id\":\"a\",\"aws_secret_access_key\":\"s\"",
                     "\"provider\":\"vertex-ai\",\"vertex_region\":\"x/y\",\"vertex_project_id\":\"p?\",\"vertex_service_account_json\":\"not json\"",
                     "\"provider\":\"vertex-ai\",\"vertex_service_account_json\":{\"type\":\"service_account\",\"private_key\":\"x\",\"client_email\":\"a@b\"}",
                     "\"provider\":\"bedrock\",\"aws_auth_type\":\"assumedRole\"", "\"provider\":\"azure-openai\",\"azure_auth_mode\":\"entra\"",
                 })
        {
            // The setting replaces the base key it names, so it is tested rather than refused as a duplicate key.
            var merged = new JsonObject { ["provider"] = "openai", ["api_key"] = Key, ["custom_host"] = host };
            foreach (var (key, value) in JsonNode.Parse("{" + setting + "}")!.AsObject())
            {
                merged[key] = value?.DeepClone();
            }
            yield return ($"setting {Preview(setting)}", merged.ToJsonString());
        }
        yield return ("legacy options", "{\"mode\":\"fallback\",\"options\":[{\"provider\":\"openai\"}]}");
        yield return ("json array", "[{\"provider\":\"openai\"}]");
        yield return ("json string", "\"openai\"");
        yield return ("json number", "42");
        yield return ("json null", "null");
        yield return ("yaml-ish", "provider: openai, api_key: k");
        yield return ("yaml flow", "{provider: openai, api_key: k}");
        yield return ("brace only", "{");
        yield return ("name with path", "../../etc/passwd");
        yield return ("name with dots", "fuzz-lb.json");
        yield return ("empty object", "{}");
        yield return ("only retry, no provider header", "{\"retry\":{\"attempts\":1}}");
        yield return ("duplicate keys", $"{{\"provider\":\"openai\",\"provider\":\"nope\",\"api_key\":\"{Key}\",\"custom_host\":\"{host}\"}}");
        yield return ("long config 30 KB", $"{{\"provider\":\"openai\",\"api_key\":\"{Key}\",\"custom_host\":\"{host}\",\"override_params\":{{\"user\":\"{new string('u', 30_000)}\"}}}}");
        yield return ("escaped lone surrogate", $"{{\"provider\":\"openai\",\"api_key\":\"\\uD800\",\"custom_host\":\"{host}\"}}");
    }

    [Fact]
    public async Task Hostile_configs_never_get_a_gateway_5xx()
    {
        await using var h = await Harness.StartAsync();
        // Configs are sent as UTF-8 so non-ASCII values reach the gateway (HttpClient refuses them by default).
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = h.Gateway.BaseUrl };
        var routes = new[] { "/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/embeddings", "/v1/files" };
        foreach (var (name, config) in HostileConfigs(h.OpenAi, h.Anthropic.BaseUrl))
        {
            foreach (var path in routes)
            {
                foreach (var (headerName, headers) in new[]
                         {
                             ("config only", new[] { ("x-portkey-config", config) }),
                             ("config + provider headers", [("x-portkey-config", config), .. Requests.HeaderMode(h.OpenAi.BaseUrl, Key)]),
                         })
                {
                    var body = path == "/v1/chat/completions" ? "{\"model\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" : ValidBody(path);
                    await h.CheckAsync($"POST {path} [{headerName}] config {name}: {Preview(config)}", h.Request(HttpMethod.Post, path, Utf8(body), "application/json", headers), utf8);
                }
            }
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }

    [Fact]
    public async Task Hostile_header_values_never_get_a_gateway_5xx()
    {
        await using var h = await Harness.StartAsync();
        var host = h.OpenAi.BaseUrl.ToString();
        var values = new (string Name, string Value)[]
        {
            ("x-portkey-provider", "nope"), ("x-portkey-provider", ""), ("x-portkey-provider", new string('p', 4000)),
            ("x-portkey-custom-host", "http://169.254.169.254/"), ("x-portkey-custom-host", "not a url"), ("x-portkey-custom-host", "http://127.0.0.1:99999"),
            ("x-portkey-metadata", "not json"), ("x-portkey-metadata", "[]"), ("x-portkey-metadata", "{\"a\":" + Deep("[", "]", 2000) + "}"),
            ("x-portkey-metadata", "{\"a\":\"\\uD800\"}"), ("x-portkey-metadata", "{\"a\":1,\"a\":{}}"),
            ("x-portkey-request-timeout", "abc"), ("x-portkey-request-timeout", "-1"), ("x-portkey-request-timeout", "99999999999999"), ("x-portkey-request-timeout", "1"),
            ("x-portkey-forward-headers", "x-portkey-forward-headers"), ("x-portkey-forward-headers", ",,,"), ("x-portkey-forward-headers", "authorization,host,content-length,transfer-encoding"),
            ("x-portkey-trace-id", new string('t', 8000)), ("x-portkey-trace-id", "a,b"), ("x-portkey-cache-namespace", new string('n', 8000)),
            ("x-portkey-cache-force-refresh", "maybe"), ("Authorization", "Bearer"), ("Authorization", "Basic Zm9vOmJhcg=="), ("Authorization", new string('k', 16000)),
            ("x-portkey-openai-organization", new string('o', 8000)), ("x-portkey-aws-region", "../../x"), ("x-portkey-vertex-service-account-json", "{not json"),
            ("x-portkey-azure-resource-name", "a/b"), ("anthropic-version", new string('v', 5000)), ("Content-Encoding", "gzip"), ("Expect", "100-continue"),
            ("x-portkey-config", new string('{', 20_000)), ("x-portkey-config", "{\"provider\":\"openai\",\"custom_host\":\"" + host + "\",\"retry\":{\"attempts\":1}}"),
        };
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages", "/v1/embeddings", "/v1/models", "/v1/files" })
        {
            var method = path == "/v1/models" ? HttpMethod.Get : HttpMethod.Post;
            foreach (var (name, value) in values)
            {
                var headers = Requests.HeaderMode(h.OpenAi.BaseUrl, Key).Where(x => !x.Item1.Equals(name, StringComparison.OrdinalIgnoreCase)).Append((name, value)).ToArray();
                await h.CheckAsync($"{method} {path} header {name}: {Preview(value)}", h.Request(method, path, method == HttpMethod.Get ? null : Utf8(ValidBody(path)), "application/json", headers));
            }
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }

    /// <summary>Raw bytes in header values: a client decoding them as UTF-8 or Latin-1 must not be able to break a request.</summary>
    [Fact]
    public async Task Header_values_with_invalid_or_non_ascii_bytes_never_get_a_gateway_5xx()
    {
        await using var h = await Harness.StartAsync();
        // Latin-1 maps each char to one byte, so "\u00C3(" goes out as the invalid UTF-8 pair 0xC3 0x28.
        using var latin1 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1 }) { BaseAddress = h.Gateway.BaseUrl };
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = h.Gateway.BaseUrl };
        var names = new[] { "x-portkey-config", "x-portkey-provider", "x-portkey-metadata", "x-portkey-custom-host", "x-portkey-forward-headers",
            "x-portkey-request-timeout", "x-portkey-cache-namespace", "x-portkey-openai-organization", "x-portkey-openai-project", "x-api-key",
            "x-custom", "x-portkey-trace-id", "Authorization", "anthropic-version" };
        var invalid = new[] { "\u00C3(", "\u00FF", "a\u00E2\u0082", "\u00C0\u00AF", "{\"provider\":\"openai\u00C3(\"}", "{\"a\u00FF\":1}" };
        var nonAscii = new[] { "café", "日本語", "{\"provider\":\"openai\",\"api_key\":\"k\",\"custom_host\":\"http://ä.localhost/v1\"}", "{\"retry\":{\"attempts\":1},\"override_params\":{\"user\":\"ü\"}}", "😀" };
        foreach (var name in names)
        {
            foreach (var (client, label, value) in invalid.Select(v => (latin1, "invalid utf-8", v)).Concat(nonAscii.Select(v => (utf8, "utf-8", v))))
            {
                var headers = Requests.HeaderMode(h.OpenAi.BaseUrl, Key).Where(x => !x.Item1.Equals(name, StringComparison.OrdinalIgnoreCase)).Append((name, value)).ToArray();
                var request = h.Request(HttpMethod.Post, "/v1/chat/completions", Utf8(ValidBody("/v1/chat/completions")), "application/json", headers);
                await h.CheckAsync($"{label} header {name}: {value}", request, client, kestrelMayRefuse: true);
            }
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }

    /// <summary>Requests Kestrel itself refuses (header limits): a 4xx before the gateway runs, with no body to shape; the gateway must still serve.</summary>
    [Fact]
    public async Task Oversized_headers_are_refused_with_a_4xx_and_the_gateway_keeps_serving()
    {
        await using var h = await Harness.StartAsync();
        var cases = new (string Name, (string, string)[] Headers, string Path)[]
        {
            ("one 64 KB header", [("x-portkey-config", "{\"provider\":\"openai\",\"override_params\":{\"user\":\"" + new string('u', 64 * 1024) + "\"}}")], "/v1/chat/completions"),
            ("200 KB config header", [("x-portkey-config", new string('{', 200 * 1024))], "/v1/chat/completions"),
            ("400 headers of 100 bytes", Enumerable.Range(0, 400).Select(i => ($"x-h{i}", new string('v', 100))).ToArray(), "/v1/chat/completions"),
            ("request line of 20 KB", [], "/v1/chat/completions?" + new string('q', 20 * 1024)),
            ("path of 20 KB", [], "/v1/" + new string('p', 20 * 1024)),
        };
        foreach (var (name, extra, path) in cases)
        {
            var request = h.Request(HttpMethod.Post, path, Utf8(ValidBody("/v1/chat/completions")), "application/json", [.. Requests.HeaderMode(h.OpenAi.BaseUrl, Key), .. extra]);
            await h.CheckAsync(name, request, kestrelMayRefuse: true);
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }

    [Fact]
    public async Task Hostile_named_config_files_do_not_stop_the_gateway_and_are_refused_by_name()
    {
        var deepJson = Deep("{\"targets\":[", "]}", 10_000);
        var deepYaml = Deep("[", "]", 10_000);
        var deepBlockYaml = string.Concat(Enumerable.Range(0, 2000).Select(i => new string(' ', i) + "a:\n")) + new string(' ', 2000) + "b: 1\n";
        var laughs = new StringBuilder("a0: &a0 [\"lol\"]\n");
        for (var i = 1; i <= 12; i++)
        {
            laughs.Append($"a{i}: &a{i} [{string.Join(",", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }
        await using var h = await Harness.StartAsync(openAi => new Dictionary<string, string>
        {
            ["deep-json.json"] = deepJson,
            ["deep-flow.yaml"] = deepYaml,
            ["deep-block.yaml"] = deepBlockYaml,
            ["laughs.yaml"] = laughs.ToString(),
            ["complex-key.yaml"] = "? [a, b]\n: 1\nprovider: openai\n",
            ["duplicate-key.yaml"] = "provider: openai\nprovider: groq\n",
            ["alias-cycle.yaml"] = "a: &x [*x]\n",
            ["tabs.yaml"] = "provider:\topenai\n\t- x\n",
            ["binary.json"] = "\u0000\u0001\u0002\uFFFD{",
            ["array.json"] = "[{\"provider\":\"openai\"}]",
            ["yaml-in-json.json"] = "provider: openai\n",
            ["unterminated-ref.json"] = "{\"provider\":\"openai\",\"api_key\":\"${NOPE\",\"custom_host\":\"" + openAi.BaseUrl + "\"}",
            ["duplicate-key.json"] = "{\"provider\":\"openai\",\"provider\":\"groq\",\"api_key\":\"k\"}",
            ["surrogate.json"] = "{\"provider\":\"openai\",\"api_key\":\"\\uD800\"}",
            ["empty.yaml"] = "",
            ["many-targets.json"] = "{\"strategy\":{\"mode\":\"loadbalance\"},\"custom_host\":\"" + openAi.BaseUrl + "\",\"targets\":["
                                    + string.Join(",", Enumerable.Repeat($"{{\"provider\":\"openai\",\"api_key\":\"{Key}\"}}", 10_000)) + "]}",
        });
        var snapshot = h.Gateway.Engine.NamedConfigs.Current;
        output.WriteLine(string.Join("\n", snapshot.Problems.Select(p => $"{p.File} {p.Path}: {p.Message}")));
        Assert.True(h.Gateway.Engine.NamedConfigs.TryGet("many-targets", out var many));
        Assert.Equal(10_000, many.Root.Targets.Count);
        foreach (var name in new[] { "deep-json", "deep-flow", "deep-block", "laughs", "complex-key", "alias-cycle", "binary", "array", "yaml-in-json", "empty", "duplicate-key", "surrogate" })
        {
            Assert.False(h.Gateway.Engine.NamedConfigs.TryGet(name, out _), $"{name} should not have loaded");
            Assert.Contains(snapshot.Problems, p => p.File.StartsWith(name + ".", StringComparison.Ordinal));
        }
        foreach (var name in new[] { "deep-json", "deep-flow", "laughs", "many-targets", "duplicate-key", "tabs", "unterminated-ref" })
        {
            foreach (var path in new[] { "/v1/chat/completions", "/v1/messages" })
            {
                await h.CheckAsync($"named config {name} on {path}", h.Request(HttpMethod.Post, path, Utf8(ValidBody(path)), "application/json",
                    [("x-portkey-config", name), ("Authorization", "Bearer " + Key)]));
            }
        }
        await h.AssertStillServesAsync();
        h.AssertNoFailures(output);
    }
}
