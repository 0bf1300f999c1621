using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Switchyard.Simulators.Anthropic;

/// <summary>
/// A fake Anthropic Messages API on a loopback port: <c>POST /v1/messages</c> (+ <c>/v1/messages/count_tokens</c>) and
/// Claude on Vertex AI (<c>…/publishers/anthropic/models/{model}:rawPredict|:streamRawPredict</c>). Validates like the
/// real API, records every request and answers what the test scripted (default: <c>echo: &lt;last user text&gt;</c>).
/// </summary>
/// <remarks>
/// Deterministic usage: input tokens = ceil(chars of the serialized tools, system and message blocks / 4); with
/// <c>cache_control</c>, the prefix up to the last marked block is written on first sight and read afterwards (no
/// 1024-token minimum). Output tokens = words of text and thinking + ceil(tool input chars / 4).
/// </remarks>
public sealed partial class AnthropicSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly RequestLog _log = new();
    private readonly ConcurrentQueue<AnthropicReply> _replies = new();
    private readonly ConcurrentDictionary<string, byte> _cachedPrefixes = new();
    private readonly ConcurrentDictionary<string, byte> _signatures = new();
    private readonly StreamStepper _stepper = new();
    private int _counter;

    private AnthropicSimulator(WebApplication app, CancellationTokenSource stopping)
    {
        _app = app;
        _stopping = stopping;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Port = new Uri(address).Port;
        Root = new Uri($"http://127.0.0.1:{Port}");
        BaseUrl = new Uri($"http://127.0.0.1:{Port}/v1");
    }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public Uri Root { get; }

    /// <summary><c>http://127.0.0.1:{port}/v1</c> (Anthropic's base URL shape).</summary>
    public Uri BaseUrl { get; }

    /// <summary>When set, <c>x-api-key</c> (or the Vertex bearer token) must equal it.</summary>
    public string? RequiredApiKey { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => _log.Snapshot();

    /// <summary>The body of the last request as JSON.</summary>
    public JsonObject LastBody => (JsonObject)JsonNode.Parse(Requests[^1].Body)!;

    /// <summary>Scripts the answer to the next model request.</summary>
    public void Enqueue(AnthropicReply reply) => _replies.Enqueue(reply);

    /// <summary>When true, each stream event after the first waits for <see cref="ReleaseNextEvent"/>.</summary>
    public bool StepMode
    {
        get => _stepper.StepMode;
        set => _stepper.StepMode = value;
    }

    /// <summary>In step mode, lets the waiting stream write its next event.</summary>
    public void ReleaseNextEvent() => _stepper.ReleaseNext();

    /// <summary>Completes once the most recently started stream has flushed at least <paramref name="count"/> events.</summary>
    public Task WaitForEventsSentAsync(int count, TimeSpan timeout) => _stepper.WaitForEventsAsync(count, timeout);

    public static async Task<AnthropicSimulator> StartAsync(CancellationToken ct = default)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(AnthropicSimulator).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0);
        });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        AnthropicSimulator? sim = null;
        app.Run(context => sim!.HandleAsync(context));
        await app.StartAsync(ct).ConfigureAwait(false);
        sim = new AnthropicSimulator(app, stopping);
        return sim;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    [GeneratedRegex("^/v1/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)$")]
    private static partial Regex VertexRoute();

    private async Task HandleAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var ct = linked.Token;
        var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
        var body = buffer.ToArray();
        var recorded = _log.Add(context.Request, body, DateTimeOffset.UtcNow);
        context.Items[typeof(RecordedRequest)] = recorded;
        var completed = false;
        try
        {
            context.Response.Headers["request-id"] = "req_sim_" + Interlocked.Increment(ref _counter).ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            var path = context.Request.Path.Value ?? "/";
            var vertex = VertexRoute().Match(path);
            if (context.Request.Method != "POST" || (path is not ("/v1/messages" or "/v1/messages/count_tokens") && !vertex.Success))
            {
                await ErrorAsync(context, 404, "not_found_error", $"Not found: {context.Request.Method} {path}", ct).ConfigureAwait(false);
            }
            else if (vertex.Success)
            {
                await VertexAsync(context, vertex, body, ct).ConfigureAwait(false);
            }
            else
            {
                await AnthropicAsync(context, path, body, ct).ConfigureAwait(false);
            }
            recorded.SetStatus(context.Response.StatusCode);
            completed = true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            context.Abort();
        }
        finally
        {
            recorded.Finish(aborted: !completed);
        }
    }

    private async Task AnthropicAsync(HttpContext context, string path, byte[] body, CancellationToken ct)
    {
        var key = context.Request.Headers["x-api-key"].ToString();
        if (key.Length == 0)
        {
            await ErrorAsync(context, 401, "authentication_error", "x-api-key header is required", ct).ConfigureAwait(false);
            return;
        }
        if (RequiredApiKey is { } required && key != required)
        {
            await ErrorAsync(context, 401, "authentication_error", "invalid x-api-key", ct).ConfigureAwait(false);
            return;
        }
        if (context.Request.Headers["anthropic-version"].ToString().Length == 0)
        {
            await ErrorAsync(context, 400, "invalid_request_error", "anthropic-version: header is required", ct).ConfigureAwait(false);
            return;
        }
        if (!TryParse(body, out var request, out var parseError))
        {
            await ErrorAsync(context, 400, "invalid_request_error", parseError, ct).ConfigureAwait(false);
            return;
        }
        if (path == "/v1/messages/count_tokens")
        {
            var countError = AnthropicValidator.Validate(request, vertex: false, countTokens: true);
            if (countError is not null)
            {
                await ErrorAsync(context, 400, "invalid_request_error", countError, ct).ConfigureAwait(false);
                return;
            }
            await JsonAsync(context, 200, new JsonObject { ["input_tokens"] = InputTokens(request, remember: false).Total }, ct).ConfigureAwait(false);
            return;
        }
        await MessagesAsync(context, request, vertex: false, ChatJsonString(request["model"])!, ct).ConfigureAwait(false);
    }

    private async Task VertexAsync(HttpContext context, Match route, byte[] body, CancellationToken ct)
    {
        var auth = context.Request.Headers.Authorization.ToString();
        var token = auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : "";
        if (token.Length == 0 || (RequiredApiKey is { } required && token != required))
        {
            var google = new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = 401,
                    ["message"] = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                    ["status"] = "UNAUTHENTICATED",
                },
            };
            await JsonAsync(context, 401, google, ct).ConfigureAwait(false);
            return;
        }
        if (!TryParse(body, out var request, out var parseError))
        {
            await ErrorAsync(context, 400, "invalid_request_error", parseError, ct).ConfigureAwait(false);
            return;
        }
        if (ChatJsonString(request["anthropic_version"]) != "vertex-2023-10-16")
        {
            await ErrorAsync(context, 400, "invalid_request_error", "anthropic_version: Input should be 'vertex-2023-10-16'", ct).ConfigureAwait(false);
            return;
        }
        var streamRoute = route.Groups[4].Value == "streamRawPredict";
        var streaming = request["stream"] is JsonValue s && s.TryGetValue<bool>(out var b) && b;
        if (streaming != streamRoute)
        {
            await ErrorAsync(context, 400, "invalid_request_error",
                streamRoute ? "streamRawPredict requires \"stream\": true" : "rawPredict does not stream; use streamRawPredict", ct).ConfigureAwait(false);
            return;
        }
        await MessagesAsync(context, request, vertex: true, route.Groups[3].Value, ct).ConfigureAwait(false);
    }

    private static bool TryParse(byte[] body, out JsonObject request, out string error)
    {
        request = null!;
        error = "";
        try
        {
            if (JsonNode.Parse(body) is JsonObject o)
            {
                request = o;
                return true;
            }
            error = "The request body must be a JSON object";
        }
        catch (JsonException ex)
        {
            error = "The request body is not valid JSON: " + ex.Message;
        }
        return false;
    }

    private async Task MessagesAsync(HttpContext context, JsonObject request, bool vertex, string model, CancellationToken ct)
    {
        var error = AnthropicValidator.Validate(request, vertex, countTokens: false);
        if (error is null)
        {
            error = CheckSignatures(request);
        }
        if (error is not null)
        {
            await ErrorAsync(context, 400, "invalid_request_error", error, ct).ConfigureAwait(false);
            return;
        }
        var reply = _replies.TryDequeue(out var scripted) ? scripted : new AnthropicReply();
        if (reply.RawBody is { } raw)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = reply.RawContentType;
            await context.Response.WriteAsync(raw, ct).ConfigureAwait(false);
            return;
        }
        if (reply.ErrorStatus is { } status)
        {
            await ErrorAsync(context, status, reply.ErrorType, reply.ErrorMessage, ct).ConfigureAwait(false);
            return;
        }
        var id = "msg_sim_" + _counter.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        var usage = InputTokens(request, remember: true);
        var answer = Compose(request, reply);
        foreach (var block in answer.Content)
        {
            if (block is JsonObject o && ChatJsonString(o["signature"]) is { } signature)
            {
                _signatures[signature] = 0;
            }
        }
        var stream = request["stream"] is JsonValue sv && sv.TryGetValue<bool>(out var st) && st;
        if (stream)
        {
            await StreamAsync(context, id, model, usage, answer, reply, ct).ConfigureAwait(false);
            return;
        }
        var message = new JsonObject
        {
            ["id"] = id,
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = model,
            ["content"] = answer.Content.DeepClone(),
            ["stop_reason"] = answer.StopReason,
            ["stop_sequence"] = answer.StopSequence,
            ["usage"] = UsageJson(usage, answer.OutputTokens),
        };
        await JsonAsync(context, 200, message, ct).ConfigureAwait(false);
    }

    private string? CheckSignatures(JsonObject request)
    {
        var messages = (JsonArray)request["messages"]!;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i]?["content"] is not JsonArray blocks)
            {
                continue;
            }
            for (var j = 0; j < blocks.Count; j++)
            {
                if (ChatJsonString(blocks[j]?["type"]) == "thinking" && !_signatures.ContainsKey(ChatJsonString(blocks[j]!["signature"]) ?? ""))
                {
                    return $"messages.{i}.content.{j}: Invalid `signature` in `thinking` block";
                }
            }
        }
        return null;
    }

    private static JsonObject UsageJson((long Total, long Uncached, long Write, long Read) usage, long output) => new()
    {
        ["input_tokens"] = usage.Uncached,
        ["cache_creation_input_tokens"] = usage.Write,
        ["cache_read_input_tokens"] = usage.Read,
        ["output_tokens"] = output,
    };

    /// <summary>Deterministic token counts; the cacheable prefix ends at the last block carrying cache_control.</summary>
    private (long Total, long Uncached, long Write, long Read) InputTokens(JsonObject request, bool remember)
    {
        var segments = new List<JsonNode>();
        foreach (var tool in request["tools"] as JsonArray ?? [])
        {
            segments.Add(tool!);
        }
        if (request["system"] is JsonArray systemBlocks)
        {
            segments.AddRange(systemBlocks.Select(b => b!));
        }
        else if (request["system"] is JsonNode systemText)
        {
            segments.Add(systemText);
        }
        foreach (var message in request["messages"] as JsonArray ?? [])
        {
            if (message?["content"] is JsonArray blocks)
            {
                segments.AddRange(blocks.Select(b => b!));
            }
            else if (message?["content"] is JsonNode text)
            {
                segments.Add(text);
            }
        }
        var text2 = new StringBuilder();
        var prefixEnd = -1;
        foreach (var segment in segments)
        {
            text2.Append(segment.ToJsonString());
            if (segment is JsonObject o && o["cache_control"] is JsonObject)
            {
                prefixEnd = text2.Length;
            }
        }
        var total = Tokens(text2.Length);
        if (prefixEnd < 0)
        {
            return (total, total, 0, 0);
        }
        var prefix = Tokens(prefixEnd);
        var key = text2.ToString(0, prefixEnd);
        var seen = remember ? !_cachedPrefixes.TryAdd(key, 0) : _cachedPrefixes.ContainsKey(key);
        return seen ? (total, total - prefix, 0, prefix) : (total, total - prefix, prefix, 0);
    }

    private static long Tokens(int chars) => (chars + 3) / 4;

    private sealed record Answer(JsonArray Content, string StopReason, string? StopSequence, long OutputTokens);

    private static Answer Compose(JsonObject request, AnthropicReply reply)
    {
        var content = new JsonArray();
        var lastUser = LastUserText(request);
        var output = 0L;
        var thinkingOn = request["thinking"] is JsonObject t && ChatJsonString(t["type"]) == "enabled";
        if (thinkingOn)
        {
            var thought = reply.Thinking ?? "Thinking about: " + lastUser;
            content.Add((JsonNode)new JsonObject
            {
                ["type"] = "thinking",
                ["thinking"] = thought,
                ["signature"] = reply.Signature ?? "sig_" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(thought)))[..24],
            });
            output += Words(thought);
            if (reply.RedactedThinking is { } redacted)
            {
                content.Add((JsonNode)new JsonObject { ["type"] = "redacted_thinking", ["data"] = redacted });
            }
        }

        var calls = reply.ToolCalls.ToList();
        var choice = request["tool_choice"] as JsonObject;
        var choiceType = ChatJsonString(choice?["type"]);
        var tools = request["tools"] as JsonArray ?? [];
        string? forced = choiceType == "tool" ? ChatJsonString(choice!["name"]) : choiceType == "any" && tools.Count > 0 ? ChatJsonString(tools[0]!["name"]) : null;
        var text = reply.Text ?? "echo: " + lastUser;
        if (calls.Count == 0 && forced is not null)
        {
            // A forced tool: the scripted text is the tool input when it is a JSON object, else a sample of the schema.
            var schema = tools.FirstOrDefault(x => ChatJsonString(x?["name"]) == forced)?["input_schema"] as JsonObject;
            calls.Add((forced, IsJsonObject(text) ? text : Sample(schema).ToJsonString()));
            text = "";
        }

        string stopReason = calls.Count > 0 ? "tool_use" : "end_turn";
        string? stopSequence = null;
        if (calls.Count == 0 && request["stop_sequences"] is JsonArray stops)
        {
            var cut = -1;
            foreach (var stop in stops.Select(s => ChatJsonString(s) ?? ""))
            {
                var at = stop.Length > 0 ? text.IndexOf(stop, StringComparison.Ordinal) : -1;
                if (at >= 0 && (cut < 0 || at < cut))
                {
                    cut = at;
                    stopSequence = stop;
                }
            }
            if (cut >= 0)
            {
                text = text[..cut];
                stopReason = "stop_sequence";
            }
        }
        var maxTokens = request["max_tokens"] is JsonValue mv && mv.TryGetValue<long>(out var m) ? m : long.MaxValue;
        if (calls.Count == 0 && output + Words(text) > maxTokens)
        {
            var words = text.Split(' ');
            text = string.Join(' ', words.Take((int)Math.Max(0, maxTokens - output)));
            stopReason = "max_tokens";
            stopSequence = null;
        }
        if (text.Length > 0)
        {
            content.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = text });
            output += Words(text);
        }
        var n = 0;
        foreach (var (name, input) in calls)
        {
            content.Add((JsonNode)new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = $"toolu_sim_{++n:D2}_{name}",
                ["name"] = name,
                ["input"] = JsonNode.Parse(input),
            });
            output += Tokens(input.Length);
        }
        return new Answer(content, reply.StopReason ?? stopReason, stopSequence, output);
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            return text.TrimStart().StartsWith('{') && JsonNode.Parse(text) is JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonNode Sample(JsonObject? schema) => ChatJsonString(schema?["type"]) switch
    {
        "object" => new JsonObject((schema!["properties"] as JsonObject ?? []).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Sample(p.Value as JsonObject)))),
        "string" => "sample",
        "integer" or "number" => 1,
        "boolean" => true,
        "array" => new JsonArray(),
        _ => new JsonObject(),
    };

    private static long Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    private static string LastUserText(JsonObject request)
    {
        var messages = request["messages"] as JsonArray ?? [];
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (ChatJsonString(messages[i]?["role"]) != "user")
            {
                continue;
            }
            var content = messages[i]!["content"];
            if (ChatJsonString(content) is { } s)
            {
                return s;
            }
            var parts = new List<string>();
            foreach (var block in content as JsonArray ?? [])
            {
                switch (ChatJsonString(block?["type"]))
                {
                    case "text":
                        parts.Add(ChatJsonString(block!["text"]) ?? "");
                        break;
                    case "tool_result":
                        parts.Add("result " + (ChatJsonString(block!["content"]) ?? block["content"]?.ToJsonString()));
                        break;
                    case "image" or "document":
                        parts.Add($"[{ChatJsonString(block!["type"])} {ChatJsonString(block["source"]?["type"])}]");
                        break;
                }
            }
            return string.Join(" ", parts);
        }
        return "";
    }

    internal static string? ChatJsonString(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private async Task StreamAsync(HttpContext context, string id, string model, (long Total, long Uncached, long Write, long Read) usage, Answer answer, AnthropicReply reply, CancellationToken ct)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        var events = new List<(string Name, JsonObject Data)>();
        var startUsage = UsageJson(usage, 1);
        events.Add(("message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                ["stop_reason"] = null, ["stop_sequence"] = null, ["usage"] = startUsage,
            },
        }));
        events.Add(("ping", new JsonObject { ["type"] = "ping" }));
        for (var i = 0; i < answer.Content.Count; i++)
        {
            var block = (JsonObject)answer.Content[i]!;
            var type = ChatJsonString(block["type"]);
            JsonObject start = type switch
            {
                "text" => new JsonObject { ["type"] = "text", ["text"] = "" },
                "thinking" => new JsonObject { ["type"] = "thinking", ["thinking"] = "" },
                "tool_use" => new JsonObject { ["type"] = "tool_use", ["id"] = block["id"]!.DeepClone(), ["name"] = block["name"]!.DeepClone(), ["input"] = new JsonObject() },
                _ => (JsonObject)block.DeepClone(),
            };
            events.Add(("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = i, ["content_block"] = start }));
            void Delta(JsonObject delta) => events.Add(("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = i, ["delta"] = delta }));
            switch (type)
            {
                case "text":
                    foreach (var piece in WordPieces(ChatJsonString(block["text"])!))
                    {
                        Delta(new JsonObject { ["type"] = "text_delta", ["text"] = piece });
                    }
                    break;
                case "thinking":
                    foreach (var piece in WordPieces(ChatJsonString(block["thinking"])!))
                    {
                        Delta(new JsonObject { ["type"] = "thinking_delta", ["thinking"] = piece });
                    }
                    Delta(new JsonObject { ["type"] = "signature_delta", ["signature"] = ChatJsonString(block["signature"]) });
                    break;
                case "tool_use":
                    Delta(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = "" });
                    foreach (var piece in ThreePieces(block["input"]!.ToJsonString()))
                    {
                        Delta(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece });
                    }
                    break;
            }
            events.Add(("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = i }));
        }
        events.Add(("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = answer.StopReason, ["stop_sequence"] = answer.StopSequence },
            ["usage"] = new JsonObject { ["output_tokens"] = answer.OutputTokens },
        }));
        events.Add(("message_stop", new JsonObject { ["type"] = "message_stop" }));

        var sent = 0;
        var progress = _stepper.BeginStream();
        var recorded = context.Items[typeof(RecordedRequest)] as RecordedRequest;
        foreach (var (name, data) in events)
        {
            if (sent > 0)
            {
                await _stepper.WaitTurnAsync(ct).ConfigureAwait(false);
            }
            if (reply.StreamErrorAfterEvents is { } limit && sent == limit)
            {
                var error = new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = reply.ErrorType, ["message"] = reply.ErrorMessage } };
                await WriteEventAsync(context, "error", error, ct).ConfigureAwait(false);
                return;
            }
            await WriteEventAsync(context, name, data, ct).ConfigureAwait(false);
            // Kestrel may accept writes silently after the peer is gone; the token is the reliable signal.
            ct.ThrowIfCancellationRequested();
            sent++;
            recorded?.CountEvent();
            progress.CountEvent();
        }
    }

    private static async Task WriteEventAsync(HttpContext context, string name, JsonObject data, CancellationToken ct)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", ct).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>"a b c" → "a", " b", " c".</summary>
    private static IEnumerable<string> WordPieces(string text)
    {
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == ' ')
            {
                yield return text[start..i];
                start = i;
            }
        }
        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    private static IEnumerable<string> ThreePieces(string json)
    {
        var size = Math.Max(1, (json.Length + 2) / 3);
        for (var i = 0; i < json.Length; i += size)
        {
            yield return json.Substring(i, Math.Min(size, json.Length - i));
        }
    }

    private static Task ErrorAsync(HttpContext context, int status, string type, string message, CancellationToken ct) =>
        JsonAsync(context, status, new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }, ct);

    private static async Task JsonAsync(HttpContext context, int status, JsonObject body, CancellationToken ct)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), ct).ConfigureAwait(false);
    }
}
