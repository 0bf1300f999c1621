using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Usage;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Bedrock;

/// <summary>AWS Bedrock through the Converse API: every LLM protocol is translated to Converse / ConverseStream and signed with SigV4.</summary>
public sealed class BedrockAdapter : IProviderAdapter
{
    private static readonly HttpMessageInvoker SharedHttp = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    });

    private readonly Func<string, string?> _environment;

    /// <summary>An adapter reading the process environment and the system clock, for use outside the engine (tests, tools).</summary>
    public BedrockAdapter()
        // The system clock only here, outside the engine; the registry passes the engine's.
        : this(System.Environment.GetEnvironmentVariable, TimeProvider.System)
    {
    }

    public BedrockAdapter(Func<string, string?> environment, TimeProvider time, HttpMessageInvoker? sts = null)
    {
        _environment = environment;
        Chat = new BedrockChatDialect(new AwsCredentialResolver(environment, sts ?? SharedHttp, time), environment, time);
    }

    public string Family => "bedrock";

    public IChatDialect? Chat { get; }

    public bool IsNative(EndpointKind endpoint, ResolvedTarget target) => false;

    public ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct) =>
        throw new NotSupportedException("Bedrock has no native OpenAI endpoints");

}

/// <summary>The Converse dialect: request translation, SigV4 (or a Bedrock API key), responses, event streams and errors.</summary>
public sealed class BedrockChatDialect(AwsCredentialResolver credentials, Func<string, string?> environment, TimeProvider time) : IChatDialect
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public async ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct)
    {
        var target = call.Target;
        var region = target.Field("aws_region") ?? (environment("AWS_REGION") is { Length: > 0 } r ? r : "us-east-1");
        var model = call.Model ?? throw new TranslationException("model is required (the Bedrock model or inference profile id)");
        var body = ChatJson.Serialize(BedrockRequest.Build(call.Body, model));
        var url = target.BaseUrl.Replace("{region}", region, StringComparison.Ordinal).TrimEnd('/')
            + "/model/" + Uri.EscapeDataString(model) + (call.Stream ? "/converse-stream" : "/converse");
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Version = System.Net.HttpVersion.Version11,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = Json;
        request.Headers.Accept.ParseAdd(call.Stream ? "application/vnd.amazon.eventstream" : "application/json");
        if (string.Equals(target.Field("aws_auth_type"), "apiKey", StringComparison.OrdinalIgnoreCase))
        {
            var key = target.ApiKey ?? throw new TranslationException("Bedrock aws_auth_type apiKey needs an api_key (a Bedrock API key)");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }
        else
        {
            var creds = await credentials.ResolveAsync(target, region, ct).ConfigureAwait(false);
            SigV4.Sign(request, body, creds, region, "bedrock", time.GetUtcNow());
        }
        foreach (var name in target.ForwardHeaders)
        {
            if (call.Request.Headers.Get(name) is { } value && !UpstreamHeaders.IsHopByHop(name) && !name.Equals("authorization", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return request;
    }

    public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call)
    {
        var root = ChatJson.ParseAnswer(body, call.Provider);
        var message = (root["output"] as JsonObject)?["message"] as JsonObject
            ?? throw ChatJson.InvalidAnswer(call.Provider, "the Converse answer has no output.message", body);
        if (message["content"] is not JsonArray content)
        {
            throw ChatJson.InvalidAnswer(call.Provider, "the Converse answer has no output.message.content array", body);
        }
        var jsonTool = BedrockRequest.UsesJsonTool(call.Body);
        var text = new System.Text.StringBuilder();
        var reasoning = new System.Text.StringBuilder();
        var thinkingBlocks = new JsonArray();
        var toolCalls = new JsonArray();
        // Strict compliance off: Portkey's content_blocks, the answer's text and reasoning blocks in Anthropic's shape.
        var contentBlocks = call.StrictOpenAiCompliance ? null : new JsonArray();
        var answeredByJsonTool = false;
        foreach (var block in content.OfType<JsonObject>())
        {
            if (ChatJson.String(block["text"]) is { } t)
            {
                text.Append(t);
                contentBlocks?.Add((JsonNode?)new JsonObject { ["type"] = "text", ["text"] = t });
            }
            else if (block["toolUse"] is JsonObject use)
            {
                var name = ChatJson.String(use["name"]);
                var input = use["input"] is { } i ? ChatJson.Serialize(i) : "{}"u8.ToArray();
                if (jsonTool && name == BedrockRequest.JsonTool)
                {
                    var json = System.Text.Encoding.UTF8.GetString(input);
                    text.Append(json);
                    contentBlocks?.Add((JsonNode?)new JsonObject { ["type"] = "text", ["text"] = json });
                    answeredByJsonTool = true;
                    continue;
                }
                toolCalls.Add((JsonNode?)new JsonObject
                {
                    ["id"] = ChatJson.String(use["toolUseId"]),
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = name, ["arguments"] = System.Text.Encoding.UTF8.GetString(input) },
                });
            }
            else if (block["reasoningContent"] is JsonObject rc)
            {
                if (rc["reasoningText"] is JsonObject rt)
                {
                    var thought = ChatJson.String(rt["text"]) ?? "";
                    reasoning.Append(thought);
                    var tb = new JsonObject { ["type"] = "thinking", ["thinking"] = thought };
                    if (ChatJson.String(rt["signature"]) is { } sig)
                    {
                        tb["signature"] = sig;
                    }
                    thinkingBlocks.Add((JsonNode?)tb);
                    contentBlocks?.Add(tb.DeepClone());
                }
                else if (ChatJson.String(rc["redactedContent"]) is { } redacted)
                {
                    var rb = new JsonObject { ["type"] = "redacted_thinking", ["data"] = redacted };
                    thinkingBlocks.Add((JsonNode?)rb);
                    contentBlocks?.Add(rb.DeepClone());
                }
            }
        }
        var native = ChatJson.String(root["stopReason"]) ?? "end_turn";
        var finish = answeredByJsonTool && native == "tool_use" ? "stop" : FinishReason(native);
        var msg = new JsonObject { ["role"] = "assistant", ["content"] = text.Length > 0 || toolCalls.Count == 0 ? text.ToString() : null };
        if (reasoning.Length > 0)
        {
            msg["reasoning_content"] = reasoning.ToString();
        }
        if (thinkingBlocks.Count > 0)
        {
            msg["thinking_blocks"] = thinkingBlocks;
        }
        if (toolCalls.Count > 0)
        {
            msg["tool_calls"] = toolCalls;
        }
        if (contentBlocks is not null)
        {
            msg["content_blocks"] = contentBlocks;
        }
        var completion = new JsonObject
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = call.Created,
            ["model"] = call.Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = msg,
                ["logprobs"] = null,
                ["finish_reason"] = finish,
                ["native_finish_reason"] = native,
            }),
        };
        if (root["usage"] is JsonObject usage)
        {
            completion["usage"] = Usage(usage);
        }
        return completion;
    }

    public IChatStreamDecoder CreateStreamDecoder(ChatCall call) => new BedrockStreamDecoder(call);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) => Read(status, body, null);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers, ChatCall call) => Read(status, body, headers);

    private static ProviderError Read(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        string? type = null;
        if (headers is not null && headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            // e.g. "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
            type = values.FirstOrDefault()?.Split(':')[0];
        }
        string? message = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject root)
            {
                message = ChatJson.String(root["message"]) ?? ChatJson.String(root["Message"]);
                type ??= ChatJson.String(root["__type"])?.Split('#')[^1];
            }
        }
        catch (JsonException)
        {
        }
        type ??= status switch
        {
            400 => "ValidationException",
            403 => "AccessDeniedException",
            404 => "ResourceNotFoundException",
            408 => "ModelTimeoutException",
            424 => "ModelErrorException",
            429 => "ThrottlingException",
            503 => "ServiceUnavailableException",
            _ => null,
        };
        if (message is null)
        {
            var fallback = ChatJson.TextError(status, body);
            return fallback with { Type = type, Code = type };
        }
        return new ProviderError(message, type, type);
    }

    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "tool_use" => "tool_calls",
        "max_tokens" or "model_context_window_exceeded" => "length",
        "guardrail_intervened" or "content_filtered" => "content_filter",
        _ => "stop",
    };

    /// <summary>Converse usage → OpenAI usage with honest prompt totals (uncached + cache read + cache write).</summary>
    public static JsonObject Usage(JsonObject usage) => CanonicalUsage.FromCacheSplit(
        ChatJson.Long(usage["inputTokens"]), ChatJson.Long(usage["outputTokens"]), ChatJson.Long(usage["cacheReadInputTokens"]), ChatJson.Long(usage["cacheWriteInputTokens"]),
        usage.ContainsKey("cacheReadInputTokens") || usage.ContainsKey("cacheWriteInputTokens"));
}
