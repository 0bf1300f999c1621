using Switchyard.Core.Streaming;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Translation;

/// <summary>The chat dialect of a provider that speaks OpenAI's chat API natively: the canonical request goes out as it is.</summary>
/// <remarks>Used when a client speaks another protocol (messages, responses) to an OpenAI-format target such as OpenAI or Azure OpenAI.</remarks>
public sealed class OpenAiChatDialect(IProviderAdapter native) : IChatDialect
{
    public ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct)
    {
        var body = call.Body;
        if (call.Stream && call.Target.Provider.StreamUsageOption)
        {
            body = (JsonObject)body.DeepClone();
            var options = body["stream_options"] as JsonObject ?? new JsonObject();
            options["include_usage"] = true;
            body["stream_options"] = options;
        }
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, JsonNodeContext.Default.JsonObject);
        return native.CreateRequestAsync(new UpstreamCall(call.Request, call.Target, EndpointKind.ChatComplete, "/chat/completions", bytes), ct);
    }

    public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call)
    {
        var completion = ChatJson.ParseAnswer(body, call.Provider);
        if (completion["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject)
        {
            throw ChatJson.InvalidAnswer(call.Provider, "the chat completion has no choices", body);
        }
        return completion;
    }

    public IChatStreamDecoder CreateStreamDecoder(ChatCall call) => new Decoder(call.Provider);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) => OpenAiErrors.Read(status, body);

    /// <summary>Passes chunks through; an event that is not a chunk, or a stream with no chunk at all, is an invalid answer.</summary>
    private sealed class Decoder(string provider) : IChatStreamDecoder
    {
        private readonly SseReader _reader = new();
        private readonly List<SseEvent> _events = [];
        private readonly ChatJson.StreamHead _head = new();
        private bool _sawChunk;

        public void Feed(ReadOnlySpan<byte> data, List<JsonObject> chunks)
        {
            _head.Feed(data);
            _reader.Feed(data, _events);
            Drain(chunks);
        }

        public void Finish(List<JsonObject> chunks)
        {
            _reader.Finish(_events);
            Drain(chunks);
            if (!_sawChunk)
            {
                throw _head.Invalid(provider, "the event stream ended without any chat.completion.chunk");
            }
        }

        private void Drain(List<JsonObject> chunks)
        {
            foreach (var e in _events)
            {
                if (e.Data is "[DONE]" || e.Data.Length == 0)
                {
                    continue;
                }
                var bytes = System.Text.Encoding.UTF8.GetBytes(e.Data);
                var chunk = ChatJson.ParseAnswer(bytes, provider, "stream event");
                if (chunk["error"] is JsonObject error)
                {
                    throw new TranslationException("The upstream reported an error mid-stream: " + (error["message"]?.ToString() ?? error.ToJsonString()), 502);
                }
                // Every chunk has a choices array (empty for Azure's prompt-filter chunk and the usage chunk).
                if (chunk["choices"] is not JsonArray)
                {
                    throw ChatJson.InvalidAnswer(provider, "a stream event is not a chat.completion.chunk (no choices)", bytes);
                }
                _sawChunk = true;
                chunks.Add(chunk);
            }
            _events.Clear();
        }
    }
}

/// <summary>Reads OpenAI-shaped error bodies (<c>{"error": {"message", "type", "code", "param"}}</c>), tolerating anything else.</summary>
public static class OpenAiErrors
{
    public static ProviderError Read(int status, ReadOnlySpan<byte> body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject root)
            {
                if (root["error"] is JsonObject error)
                {
                    return new ProviderError(error["message"]?.ToString() ?? $"HTTP {status}", Str(error["type"]), Str(error["code"]), Str(error["param"]));
                }
                if (root["error"] is JsonValue text)
                {
                    return new ProviderError(text.ToString());
                }
                if (root["message"] is JsonValue message)
                {
                    return new ProviderError(message.ToString());
                }
            }
        }
        catch (JsonException)
        {
        }
        return ChatJson.TextError(status, body);
    }

    private static string? Str(JsonNode? node) => node is JsonValue v ? v.ToString() : null;
}
