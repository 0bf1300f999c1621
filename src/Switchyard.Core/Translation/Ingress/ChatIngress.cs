using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Translation;

/// <summary>OpenAI chat completions as a client protocol: canonical already, so only the stream framing and usage chunk are decided here.</summary>
public sealed class ChatIngress : IIngressProtocol
{
    public EndpointKind Endpoint => EndpointKind.ChatComplete;

    public JsonObject ToChat(ReadOnlyMemory<byte> body) => ChatJson.ParseRequest(body.Span);

    public byte[] FromChat(JsonObject completion, ChatCall call)
    {
        if (!call.StrictOpenAiCompliance)
        {
            NativeFinishReasons(completion);
        }
        return ChatJson.Serialize(completion);
    }

    public IClientStreamEncoder CreateStreamEncoder(ChatCall call) => new Encoder(ClientAskedForUsage(call.Body), call.StrictOpenAiCompliance);

    /// <summary>
    /// Strict OpenAI compliance off: each choice's <c>finish_reason</c> becomes the provider's own reason (Portkey §9.4).
    /// Canonical chat keeps the mapped reason, which the other client protocols need; only this protocol shows the native one.
    /// </summary>
    private static void NativeFinishReasons(JsonObject completionOrChunk)
    {
        foreach (var choice in (completionOrChunk["choices"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (choice["finish_reason"] is JsonValue && ChatJson.String(choice["native_finish_reason"]) is { Length: > 0 } native)
            {
                choice["finish_reason"] = native;
            }
        }
    }

    public byte[] ErrorBody(int status, ProviderError error, string provider) => OpenAiErrorBody(error, provider);

    /// <summary><c>{"error": {message, type, param, code}, "provider": …}</c>.</summary>
    public static byte[] OpenAiErrorBody(ProviderError error, string provider)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = $"{provider} error: {error.Message}",
                ["type"] = error.Type,
                ["param"] = error.Param,
                ["code"] = error.Code,
            },
            ["provider"] = provider,
        };
        return ChatJson.Serialize(body);
    }

    /// <summary>True when the request has <c>stream_options.include_usage: true</c>.</summary>
    public static bool ClientAskedForUsage(JsonObject body) =>
        body["stream_options"] is JsonObject o && o["include_usage"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private sealed class Encoder(bool includeUsage, bool strict) : IClientStreamEncoder
    {
        public void Encode(JsonObject chunk, IBufferWriter<byte> output)
        {
            if (!strict)
            {
                NativeFinishReasons(chunk);
            }
            var isUsageChunk = chunk["choices"] is JsonArray { Count: 0 } && chunk["usage"] is not null;
            if (isUsageChunk && !includeUsage)
            {
                return;
            }
            if (!isUsageChunk && !includeUsage && chunk.ContainsKey("usage"))
            {
                chunk = (JsonObject)chunk.DeepClone();
                chunk.Remove("usage");
            }
            Sse.WriteData(output, chunk);
        }

        public void Finish(IBufferWriter<byte> output) => Sse.WriteRaw(output, "data: [DONE]\n\n"u8);

        public void Fail(string message, IBufferWriter<byte> output)
        {
            var error = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "upstream_stream_error" } };
            Sse.WriteData(output, error);
        }
    }
}

/// <summary>Writes server-sent events.</summary>
public static class Sse
{
    public static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    /// <summary><c>data: {json}\n\n</c>.</summary>
    public static void WriteData(IBufferWriter<byte> output, JsonNode data)
    {
        WriteRaw(output, "data: "u8);
        using (var writer = new Utf8JsonWriter(output))
        {
            data.WriteTo(writer);
        }
        WriteRaw(output, "\n\n"u8);
    }

    /// <summary><c>event: name\ndata: {json}\n\n</c>.</summary>
    public static void WriteEvent(IBufferWriter<byte> output, string name, JsonNode data)
    {
        WriteRaw(output, "event: "u8);
        WriteRaw(output, System.Text.Encoding.UTF8.GetBytes(name));
        WriteRaw(output, "\n"u8);
        WriteData(output, data);
    }
}
