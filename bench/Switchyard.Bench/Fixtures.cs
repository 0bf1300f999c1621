using System.Text;

namespace Switchyard.Bench;

/// <summary>
/// Request bodies and upstream responses used by the benchmark. Everything is generated from a fixed word
/// list and a fixed seed, so every run (and every machine) sends and receives the same bytes.
/// </summary>
internal static class Fixtures
{
    private const string Model = "gpt-4o-mini";
    private const string ResponseModel = "gpt-4o-mini-2024-07-18";
    private const string CompletionId = "chatcmpl-bench0000000000000000000001";
    private const long Created = 1767225600; // 2026-01-01T00:00:00Z
    private const string Fingerprint = "fp_bench01";
    private const string StreamTail = ""","stream":true,"stream_options":{"include_usage":true}""";

    private static readonly string[] Words =
    [
        "gateway", "route", "token", "latency", "stream", "request", "provider", "model", "budget", "retry",
        "fallback", "target", "config", "header", "socket", "buffer", "event", "window", "context", "prompt",
        "answer", "system", "assistant", "user", "signal", "queue", "worker", "thread", "memory", "packet",
        "cluster", "region", "tenant", "policy", "metric", "trace", "sample", "cache", "vector", "index",
        "the", "a", "of", "to", "and", "in", "is", "for", "with", "on", "that", "by", "as", "at", "from",
        "quickly", "safely", "every", "second", "small", "large", "fast", "steady", "quiet", "busy",
    ];

    public static int Write(string dir)
    {
        Directory.CreateDirectory(dir);
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["req-small.json"] = SmallRequest(stream: false),
            ["req-small-stream.json"] = SmallRequest(stream: true),
            ["req-1k.json"] = LargeRequest(stream: false),
            ["req-1k-stream.json"] = LargeRequest(stream: true),
            ["req-paced-stream.json"] = PacedRequest(),
            ["chat-completion.json"] = Completion(),
            ["chat-stream.sse"] = Stream(),
        };
        foreach (var (name, text) in files)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
            Console.WriteLine($"{name,-24} {Encoding.UTF8.GetByteCount(text),6} bytes");
        }

        return 0;
    }

    /// <summary>About 90 bytes: the smallest realistic chat request.</summary>
    private static string SmallRequest(bool stream) =>
        "{\"model\":\"" + Model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]"
        + (stream ? StreamTail : "") + "}";

    /// <summary>About 4.5 KB, roughly 1,000 prompt tokens: a system prompt plus a long user message.</summary>
    private static string LargeRequest(bool stream)
    {
        var text = Text(seed: 7, minChars: 4370);
        return "{\"model\":\"" + Model + "\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a concise assistant.\"},"
            + "{\"role\":\"user\",\"content\":\"" + text + "\"}],\"max_tokens\":64"
            + (stream ? StreamTail : "") + "}";
    }

    /// <summary>For the paced upstream: the repository simulator echoes the user message word by word.</summary>
    private static string PacedRequest()
    {
        var words = Text(seed: 11, minChars: 1, wordCount: 21);
        return "{\"model\":\"" + Model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + words + "\"}]" + StreamTail + "}";
    }

    /// <summary>A ~1 KB non-streaming <c>chat.completion</c>.</summary>
    private static string Completion()
    {
        var content = Text(seed: 3, minChars: 470);
        return "{\"id\":\"" + CompletionId + "\",\"object\":\"chat.completion\",\"created\":" + Created
            + ",\"model\":\"" + ResponseModel + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
            + content + "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + Usage(20, 120) + ",\"service_tier\":\"default\",\"system_fingerprint\":\"" + Fingerprint + "\"}";
    }

    /// <summary>24 <c>chat.completion.chunk</c> events (role, 21 content pieces, finish, usage) and <c>[DONE]</c>.</summary>
    private static string Stream()
    {
        var sb = new StringBuilder();
        void Event(string choices, string usage) => sb
            .Append("data: {\"id\":\"").Append(CompletionId).Append("\",\"object\":\"chat.completion.chunk\",\"created\":").Append(Created)
            .Append(",\"model\":\"").Append(ResponseModel).Append("\",\"service_tier\":\"default\",\"system_fingerprint\":\"")
            .Append(Fingerprint).Append("\",\"choices\":").Append(choices).Append(",\"usage\":").Append(usage).Append("}\n\n");

        Event("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]", "null");
        var rng = new Lcg(5);
        for (var i = 0; i < 21; i++)
        {
            var piece = new StringBuilder();
            for (var w = 0; w < 3; w++)
            {
                piece.Append(' ').Append(Words[rng.Next(Words.Length)]);
            }

            Event("[{\"index\":0,\"delta\":{\"content\":\"" + piece + "\"},\"logprobs\":null,\"finish_reason\":null}]", "null");
        }

        Event("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]", "null");
        Event("[]", Usage(12, 63)[8..]);
        sb.Append("data: [DONE]\n\n");
        return sb.ToString();
    }

    private static string Usage(int prompt, int completion) =>
        "\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":" + (prompt + completion)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,"
        + "\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";

    private static string Text(int seed, int minChars, int wordCount = int.MaxValue)
    {
        var rng = new Lcg(seed);
        var sb = new StringBuilder();
        var count = 0;
        while ((wordCount == int.MaxValue && sb.Length < minChars) || (wordCount != int.MaxValue && count < wordCount))
        {
            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(Words[rng.Next(Words.Length)]);
            count++;
        }

        return sb.ToString();
    }

    /// <summary>A tiny deterministic generator (the BCL's <see cref="Random"/> sequence is not guaranteed across versions).</summary>
    private sealed class Lcg(int seed)
    {
        private ulong _state = (ulong)seed * 6364136223846793005UL + 1442695040888963407UL;

        public int Next(int bound)
        {
            _state = _state * 6364136223846793005UL + 1442695040888963407UL;
            return (int)((_state >> 33) % (ulong)bound);
        }
    }
}
