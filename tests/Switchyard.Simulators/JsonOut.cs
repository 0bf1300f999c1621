using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary>Builds response JSON and server-sent-event frames straight to UTF-8 bytes.</summary>
internal static class JsonOut
{
    private static readonly byte[] s_dataPrefix = "data: "u8.ToArray();
    private static readonly byte[] s_eventEnd = "\n\n"u8.ToArray();

    /// <summary>The terminator OpenAI sends after the last chunk.</summary>
    public static readonly byte[] SseDone = "data: [DONE]\n\n"u8.ToArray();

    // OpenAI writes quotes as \" and non-ASCII text raw; the default encoder's \u0022 and \u002B are
    // valid JSON but would make byte-level assertions in tests differ from real traffic.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One <c>data: {json}\n\n</c> frame.</summary>
    public static byte[] SseEvent(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(s_dataPrefix);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            write(writer);
        }

        buffer.Write(s_eventEnd);
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteUsage(Utf8JsonWriter w, int promptTokens, int completionTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", promptTokens);
        w.WriteNumber("completion_tokens", completionTokens);
        w.WriteNumber("total_tokens", promptTokens + completionTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", 0);
        w.WriteNumber("audio_tokens", 0);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", 0);
        w.WriteNumber("audio_tokens", 0);
        w.WriteNumber("accepted_prediction_tokens", 0);
        w.WriteNumber("rejected_prediction_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
