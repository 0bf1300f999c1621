using System.Collections.Concurrent;
using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Switchyard.Simulators.Bedrock;

/// <summary>
/// A fake AWS Bedrock runtime (Converse, ConverseStream) plus STS (AssumeRole, AssumeRoleWithWebIdentity) on a loopback port.
/// Every Bedrock call must carry a valid SigV4 signature from a known key (or a known Bedrock API key as a bearer token).
/// Paths may carry a region prefix (<c>/us-east-1/model/…</c>), which must match the signature's credential scope.
/// </summary>
public sealed class BedrockSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<RecordedRequest> _requests = [];
    private readonly ConcurrentQueue<BedrockReply> _replies = new();
    private readonly ConcurrentDictionary<string, (string Secret, string? Token, DateTimeOffset? Expires)> _keys = new();
    private readonly StreamStepper _stepper = new();
    private int _assumeRole;
    private int _webIdentity;
    private int _issued;

    private BedrockSimulator(WebApplication app)
    {
        _app = app;
    }

    public int Port { get; private set; }

    /// <summary><c>http://127.0.0.1:port</c>.</summary>
    public string Root => $"http://127.0.0.1:{Port}";

    /// <summary>A base-URL override with the region placeholder: <c>http://127.0.0.1:port/{region}</c>.</summary>
    public string BaseUrlTemplate => Root + "/{region}";

    /// <summary>Where tests point AWS_ENDPOINT_URL_STS.</summary>
    public string StsUrl => Root + "/";

    public ConcurrentDictionary<string, string> ExternalIdsSeen { get; } = new();

    /// <summary>Bearer tokens accepted as Bedrock API keys.</summary>
    public HashSet<string> ApiKeys { get; } = [];

    /// <summary>Web identity tokens STS accepts.</summary>
    public HashSet<string> WebIdentityTokens { get; } = [];

    /// <summary>Lifetime of issued temporary credentials.</summary>
    public TimeSpan CredentialLifetime { get; set; } = TimeSpan.FromHours(1);

    public int AssumeRoleCount => Volatile.Read(ref _assumeRole);

    public int WebIdentityCount => Volatile.Read(ref _webIdentity);

    /// <summary>Converse/ConverseStream requests (STS calls excluded).</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.Where(r => r.Path.Contains("/model/", StringComparison.Ordinal)).ToArray();
            }
        }
    }

    /// <summary>STS calls.</summary>
    public IReadOnlyList<RecordedRequest> StsRequests
    {
        get
        {
            lock (_requests)
            {
                return _requests.Where(r => !r.Path.Contains("/model/", StringComparison.Ordinal)).ToArray();
            }
        }
    }

    public void AddKey(string accessKeyId, string secret, string? sessionToken = null) => _keys[accessKeyId] = (secret, sessionToken, null);

    public void Next(BedrockReply reply) => _replies.Enqueue(reply);

    /// <summary>When true, each ConverseStream event after the first waits for <see cref="ReleaseNextEvent"/>.</summary>
    public bool StepMode
    {
        get => _stepper.StepMode;
        set => _stepper.StepMode = value;
    }

    /// <summary>In step mode, lets the waiting stream write its next event.</summary>
    public void ReleaseNextEvent() => _stepper.ReleaseNext();

    /// <summary>Completes once the most recently started stream has flushed at least <paramref name="count"/> events.</summary>
    public Task WaitForEventsSentAsync(int count, TimeSpan timeout) => _stepper.WaitForEventsAsync(count, timeout);

    public static async Task<BedrockSimulator> StartAsync()
    {
        var app = LoopbackApp.Build(typeof(BedrockSimulator).Assembly.GetName().Name!);
        var sim = new BedrockSimulator(app);
        app.Run(sim.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        sim.Port = LoopbackApp.Port(app);
        return sim;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var bytes = body.ToArray();
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var rawPath = raw.Split('?')[0];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = string.Join(", ", values.ToArray());
        }
        var recorded = new RecordedRequest(request.Method, rawPath, request.QueryString.Value ?? "", headers, bytes, DateTimeOffset.UtcNow);
        lock (_requests)
        {
            _requests.Add(recorded);
        }
        try
        {
            var modelAt = rawPath.IndexOf("/model/", StringComparison.Ordinal);
            if (request.Method == "POST" && modelAt >= 0)
            {
                await ConverseAsync(context, rawPath, modelAt, bytes, recorded).ConfigureAwait(false);
            }
            else if (request.Method == "POST" && (rawPath is "/" or "/sts" or "/sts/"))
            {
                await StsAsync(context, rawPath, bytes).ConfigureAwait(false);
            }
            else
            {
                await AwsError(context, 404, "UnknownOperationException", "Unknown operation").ConfigureAwait(false);
            }
            recorded.SetStatus(context.Response.StatusCode);
            recorded.Finish(false);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            recorded.Finish(true);
        }
    }

    private (string Secret, string? Token)? Lookup(string keyId)
    {
        if (_keys.TryGetValue(keyId, out var k) && (k.Expires is null || k.Expires > DateTimeOffset.UtcNow))
        {
            return (k.Secret, k.Token);
        }
        return null;
    }

    private static Task AwsError(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["x-amzn-ErrorType"] = type + ":http://internal.amazon.com/coral/com.amazon.bedrock/";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = message }));
    }

    // ---------------------------------------------------------------- Converse

    private async Task ConverseAsync(HttpContext context, string rawPath, int modelAt, byte[] bytes, RecordedRequest recorded)
    {
        var prefix = rawPath[..modelAt].Trim('/');
        var region = prefix.Length > 0 ? prefix : null;
        var rest = rawPath[(modelAt + 7)..];
        var slash = rest.LastIndexOf('/');
        var operation = slash >= 0 ? rest[(slash + 1)..] : "";
        if (slash <= 0 || operation is not ("converse" or "converse-stream"))
        {
            await AwsError(context, 404, "UnknownOperationException", "Unknown operation").ConfigureAwait(false);
            return;
        }
        var auth = context.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            if (!ApiKeys.Contains(auth[7..]))
            {
                await AwsError(context, 403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix").ConfigureAwait(false);
                return;
            }
        }
        else if (SigV4Verifier.Verify(context.Request, rawPath, bytes, "bedrock", region, Lookup) is { } failure)
        {
            await AwsError(context, 403, failure.Type, failure.Message).ConfigureAwait(false);
            return;
        }
        _replies.TryDequeue(out var reply);
        reply ??= new BedrockReply();
        if (reply.Error is { } error)
        {
            await AwsError(context, error.Status, error.Type, error.Message).ConfigureAwait(false);
            return;
        }
        if (reply.RawBody is { } raw)
        {
            context.Response.ContentType = reply.RawContentType;
            await context.Response.WriteAsync(raw, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        JsonObject? body;
        try
        {
            body = JsonNode.Parse(bytes) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }
        if (body is null)
        {
            await AwsError(context, 400, "ValidationException", "Malformed input request, please reformat your input and try again.").ConfigureAwait(false);
            return;
        }
        if (ConverseValidator.Validate(body) is { } invalid)
        {
            await AwsError(context, 400, "ValidationException", invalid).ConfigureAwait(false);
            return;
        }
        var answer = Compose(body, reply, recorded);
        if (operation == "converse")
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJson().ToJsonString()).ConfigureAwait(false);
            return;
        }
        await StreamAsync(context, answer, reply, recorded).ConfigureAwait(false);
    }

    private sealed record Answer(string? Reasoning, string? Signature, string Text, string? ToolId, string? ToolName, string? ToolArgs, string StopReason, JsonObject Usage)
    {
        public JsonObject ToJson()
        {
            var content = new JsonArray();
            if (Reasoning is not null)
            {
                content.Add((JsonNode)new JsonObject { ["reasoningContent"] = new JsonObject { ["reasoningText"] = new JsonObject { ["text"] = Reasoning, ["signature"] = Signature } } });
            }
            if (Text.Length > 0)
            {
                content.Add((JsonNode)new JsonObject { ["text"] = Text });
            }
            if (ToolName is not null)
            {
                content.Add((JsonNode)new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = ToolId, ["name"] = ToolName, ["input"] = JsonNode.Parse(ToolArgs!) } });
            }
            return new JsonObject
            {
                ["output"] = new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content } },
                ["stopReason"] = StopReason,
                ["usage"] = Usage.DeepClone(),
                ["metrics"] = new JsonObject { ["latencyMs"] = 7 },
            };
        }
    }

    private static int Words(string? s) => string.IsNullOrWhiteSpace(s) ? 0 : s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private static Answer Compose(JsonObject body, BedrockReply reply, RecordedRequest recorded)
    {
        // Input tokens: words of every text block (system, messages, tool results) plus 100 per image; the part before the last cachePoint is the cached prefix.
        var total = 0;
        var prefix = 0;
        var sawCachePoint = false;
        void Count(JsonNode? block)
        {
            if (block is not JsonObject b)
            {
                return;
            }
            if (b.ContainsKey("cachePoint"))
            {
                prefix = total;
                sawCachePoint = true;
            }
            total += Words(b["text"]?.ToString()) + (b.ContainsKey("image") ? 100 : 0);
            if (b["toolResult"] is JsonObject tr)
            {
                foreach (var c in tr["content"] as JsonArray ?? [])
                {
                    total += Words((c as JsonObject)?["text"]?.ToString());
                }
            }
        }
        foreach (var s in body["system"] as JsonArray ?? [])
        {
            Count(s);
        }
        string? lastUserText = null;
        foreach (var m in (JsonArray)body["messages"]!)
        {
            foreach (var c in (JsonArray)m!["content"]!)
            {
                Count(c);
                if (m["role"]!.ToString() == "user" && (c as JsonObject)?["text"] is { } t)
                {
                    lastUserText = t.ToString();
                }
            }
        }

        var thinking = (body["additionalModelRequestFields"] as JsonObject)?["thinking"] as JsonObject;
        var reasoning = reply.Reasoning ?? (thinking?["type"]?.ToString() == "enabled" ? ("Let me think about this.", "sig-sim-1") : null);
        var text = reply.Text ?? (reply.ToolCall is null ? "echo: " + lastUserText : "");
        var tool = reply.ToolCall;
        var toolConfig = body["toolConfig"] as JsonObject;
        var choice = toolConfig?["toolChoice"] as JsonObject;
        var forcedName = (choice?["tool"] as JsonObject)?["name"]?.ToString();
        if (forcedName is null && choice?["any"] is not null)
        {
            // toolChoice any: the model must call some tool; the simulator calls the first one.
            forcedName = ((toolConfig!["tools"] as JsonArray)?[0]?["toolSpec"] as JsonObject)?["name"]?.ToString();
        }
        if (tool is null && forcedName is not null)
        {
            tool = (forcedName, ArgumentsFor(toolConfig, forcedName));
            text = reply.Text ?? "";
        }
        var stop = "end_turn";
        var inference = body["inferenceConfig"] as JsonObject;
        foreach (var seq in inference?["stopSequences"] as JsonArray ?? [])
        {
            var at = text.IndexOf(seq!.ToString(), StringComparison.Ordinal);
            if (at >= 0)
            {
                text = text[..at];
                stop = "stop_sequence";
                tool = null;
            }
        }
        if (inference?["maxTokens"] is JsonValue mt && mt.GetValue<int>() < Words(text))
        {
            text = string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(mt.GetValue<int>()));
            stop = "max_tokens";
            tool = null;
        }
        if (tool is not null)
        {
            stop = "tool_use";
        }
        stop = reply.StopReason ?? stop;
        var output = Words(text) + Words(reasoning?.Item1) + (tool is null ? 0 : 1 + tool.Value.ArgumentsJson.Length / 4);
        var usage = new JsonObject
        {
            ["inputTokens"] = total - prefix,
            ["outputTokens"] = output,
            ["totalTokens"] = total + output,
        };
        if (sawCachePoint)
        {
            usage["cacheReadInputTokens"] = reply.CacheHit ? prefix : 0;
            usage["cacheWriteInputTokens"] = reply.CacheHit ? 0 : prefix;
        }
        var toolId = tool is null ? null : $"tooluse_sim{recorded.ReceivedAt.Ticks % 100000:D5}";
        return new Answer(reasoning?.Item1, reasoning?.Item2, text, toolId, tool?.Name, tool?.ArgumentsJson, stop, usage);
    }

    private async Task StreamAsync(HttpContext context, Answer answer, BedrockReply reply, RecordedRequest recorded)
    {
        var events = new List<(string Type, JsonObject Payload)> { ("messageStart", new JsonObject { ["role"] = "assistant" }) };
        var block = 0;
        if (answer.Reasoning is not null)
        {
            foreach (var piece in Pieces(answer.Reasoning, 2))
            {
                events.Add(("contentBlockDelta", new JsonObject { ["contentBlockIndex"] = block, ["delta"] = new JsonObject { ["reasoningContent"] = new JsonObject { ["text"] = piece } } }));
            }
            events.Add(("contentBlockDelta", new JsonObject { ["contentBlockIndex"] = block, ["delta"] = new JsonObject { ["reasoningContent"] = new JsonObject { ["signature"] = answer.Signature } } }));
            events.Add(("contentBlockStop", new JsonObject { ["contentBlockIndex"] = block++ }));
        }
        if (answer.Text.Length > 0)
        {
            foreach (var piece in Pieces(answer.Text, 2))
            {
                events.Add(("contentBlockDelta", new JsonObject { ["contentBlockIndex"] = block, ["delta"] = new JsonObject { ["text"] = piece } }));
            }
            events.Add(("contentBlockStop", new JsonObject { ["contentBlockIndex"] = block++ }));
        }
        if (answer.ToolName is not null)
        {
            events.Add(("contentBlockStart", new JsonObject
            {
                ["contentBlockIndex"] = block,
                ["start"] = new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = answer.ToolId, ["name"] = answer.ToolName } },
            }));
            var args = answer.ToolArgs!;
            var size = Math.Max(1, (args.Length + 2) / 3);
            for (var i = 0; i < args.Length; i += size)
            {
                events.Add(("contentBlockDelta", new JsonObject
                {
                    ["contentBlockIndex"] = block,
                    ["delta"] = new JsonObject { ["toolUse"] = new JsonObject { ["input"] = args.Substring(i, Math.Min(size, args.Length - i)) } },
                }));
            }
            events.Add(("contentBlockStop", new JsonObject { ["contentBlockIndex"] = block++ }));
        }
        events.Add(("messageStop", new JsonObject { ["stopReason"] = answer.StopReason }));
        events.Add(("metadata", new JsonObject { ["usage"] = answer.Usage.DeepClone(), ["metrics"] = new JsonObject { ["latencyMs"] = 7 } }));

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/vnd.amazon.eventstream";
        var progress = _stepper.BeginStream();
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                await _stepper.WaitTurnAsync(context.RequestAborted).ConfigureAwait(false);
            }
            if (reply.StreamException is { } ex && ex.AfterEvents == i)
            {
                await context.Response.Body.WriteAsync(EventStreamWriter.Exception(ex.ExceptionType, ex.Message)).ConfigureAwait(false);
                await context.Response.Body.FlushAsync().ConfigureAwait(false);
                return;
            }
            var frame = EventStreamWriter.Event(events[i].Type, events[i].Payload.ToJsonString(), corrupt: reply.CorruptEvent == i);
            await context.Response.Body.WriteAsync(frame, context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            context.RequestAborted.ThrowIfCancellationRequested();
            recorded.CountEvent();
            progress.CountEvent();
        }
    }

    private static IEnumerable<string> Pieces(string text, int wordsPerPiece)
    {
        var words = text.Split(' ');
        for (var i = 0; i < words.Length; i += wordsPerPiece)
        {
            var piece = string.Join(' ', words.Skip(i).Take(wordsPerPiece));
            yield return i + wordsPerPiece < words.Length ? piece + " " : piece;
        }
    }

    // ---------------------------------------------------------------- STS

    private async Task StsAsync(HttpContext context, string rawPath, byte[] bytes)
    {
        var form = Encoding.UTF8.GetString(bytes).Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
        var action = form.GetValueOrDefault("Action");
        if (form.GetValueOrDefault("Version") != "2011-06-15")
        {
            await StsError(context, 400, "InvalidParameterValue", "Version must be 2011-06-15").ConfigureAwait(false);
            return;
        }
        if (form.GetValueOrDefault("RoleArn") is not { Length: > 0 } role || form.GetValueOrDefault("RoleSessionName") is not { Length: > 0 })
        {
            await StsError(context, 400, "ValidationError", "RoleArn and RoleSessionName are required").ConfigureAwait(false);
            return;
        }
        if (action == "AssumeRole")
        {
            if (SigV4Verifier.Verify(context.Request, rawPath, bytes, "sts", null, Lookup) is { } failure)
            {
                await StsError(context, 403, failure.Type == "InvalidSignatureException" ? "SignatureDoesNotMatch" : "InvalidClientTokenId", failure.Message).ConfigureAwait(false);
                return;
            }
            if (form.GetValueOrDefault("ExternalId") is { } ext)
            {
                ExternalIdsSeen[role] = ext;
            }
            Interlocked.Increment(ref _assumeRole);
        }
        else if (action == "AssumeRoleWithWebIdentity")
        {
            if (!WebIdentityTokens.Contains(form.GetValueOrDefault("WebIdentityToken") ?? ""))
            {
                await StsError(context, 400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider").ConfigureAwait(false);
                return;
            }
            Interlocked.Increment(ref _webIdentity);
        }
        else
        {
            await StsError(context, 400, "InvalidAction", $"Could not find operation {action} for version 2011-06-15").ConfigureAwait(false);
            return;
        }
        var n = Interlocked.Increment(ref _issued);
        var id = $"ASIASIM{n:D8}";
        var secret = $"tempSecret{n}/{Guid.NewGuid():N}";
        var token = $"FwoGZXIvYXdzEJr//sim-token-{n}";
        var expires = DateTimeOffset.UtcNow + CredentialLifetime;
        _keys[id] = (secret, token, expires);
        var xml = $"""
            <{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <{action}Result>
                <Credentials>
                  <AccessKeyId>{id}</AccessKeyId>
                  <SecretAccessKey>{SecurityElement.Escape(secret)}</SecretAccessKey>
                  <SessionToken>{SecurityElement.Escape(token)}</SessionToken>
                  <Expiration>{expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}</Expiration>
                </Credentials>
                <AssumedRoleUser>
                  <Arn>{SecurityElement.Escape(role)}/{SecurityElement.Escape(form["RoleSessionName"])}</Arn>
                  <AssumedRoleId>AROASIM:{SecurityElement.Escape(form["RoleSessionName"])}</AssumedRoleId>
                </AssumedRoleUser>
              </{action}Result>
              <ResponseMetadata><RequestId>{Guid.NewGuid()}</RequestId></ResponseMetadata>
            </{action}Response>
            """;
        context.Response.ContentType = "text/xml";
        await context.Response.WriteAsync(xml).ConfigureAwait(false);
    }

    private static Task StsError(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml";
        return context.Response.WriteAsync($"""
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <Error><Type>Sender</Type><Code>{code}</Code><Message>{SecurityElement.Escape(message)}</Message></Error>
              <RequestId>{Guid.NewGuid()}</RequestId>
            </ErrorResponse>
            """);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Deterministic arguments for a forced call: each required string property gets "value-of-&lt;name&gt;".</summary>
    private static string ArgumentsFor(JsonObject? toolConfig, string name)
    {
        var spec = (toolConfig?["tools"] as JsonArray)?.Select(t => t?["toolSpec"] as JsonObject).FirstOrDefault(t => t?["name"]?.ToString() == name);
        var schema = (spec?["inputSchema"] as JsonObject)?["json"] as JsonObject;
        var args = new JsonObject();
        foreach (var required in schema?["required"] as JsonArray ?? [])
        {
            var property = required!.ToString();
            if ((schema!["properties"] as JsonObject)?[property]?["type"]?.ToString() == "string")
            {
                args[property] = "value-of-" + property;
            }
        }
        return args.ToJsonString();
    }
}
