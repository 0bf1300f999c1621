using System.Buffers.Binary;

namespace Switchyard.Simulators;

/// <summary><c>POST …/audio/speech</c>: silent audio whose length grows with the input text.</summary>
internal static class SpeechEndpoint
{
    public static SimReply Handle(SimRequest request)
    {
        if (RequestFields.ParseWithModel(request, out var root, out _) is { } rejected)
        {
            return rejected;
        }

        var input = RequestFields.OptionalString(root, "input");
        if (string.IsNullOrEmpty(input))
        {
            return OpenAiErrors.MissingParameter("input");
        }

        if (!RequestFields.IsPresent(root, "voice"))
        {
            return OpenAiErrors.MissingParameter("voice");
        }

        var format = RequestFields.OptionalString(root, "response_format") ?? "mp3";
        var frames = 1 + (input.Length / 16);
        return format switch
        {
            "mp3" => SimReply.Bytes("audio/mpeg", SilentMp3(frames)),
            "wav" => SimReply.Bytes("audio/wav", SilentWav(frames * 1152)),
            "pcm" => SimReply.Bytes("audio/pcm", new byte[frames * 1152 * 2]),
            "opus" => SimReply.Bytes("audio/opus", SilentMp3(frames)),
            "aac" => SimReply.Bytes("audio/aac", SilentMp3(frames)),
            "flac" => SimReply.Bytes("audio/flac", SilentMp3(frames)),
            _ => OpenAiErrors.InvalidRequest($"Invalid value: '{format}'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.", "response_format", "invalid_value"),
        };
    }

    /// <summary>MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz) with zeroed payloads, which decoders play as silence.</summary>
    private static byte[] SilentMp3(int frames)
    {
        const int FrameSize = 417;
        var bytes = new byte[frames * FrameSize];
        for (var i = 0; i < frames; i++)
        {
            var frame = bytes.AsSpan(i * FrameSize);
            frame[0] = 0xFF;
            frame[1] = 0xFB;
            frame[2] = 0x90;
            frame[3] = 0x64;
        }

        return bytes;
    }

    /// <summary>A 24 kHz mono 16-bit WAV of silence, the format OpenAI uses for wav output.</summary>
    private static byte[] SilentWav(int samples)
    {
        const int SampleRate = 24_000;
        var dataSize = samples * 2;
        var bytes = new byte[44 + dataSize];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + dataSize);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], SampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], dataSize);
        return bytes;
    }
}
