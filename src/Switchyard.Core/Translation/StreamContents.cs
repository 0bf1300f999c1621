using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Usage;

namespace Switchyard.Core.Translation;

/// <summary>A translated event stream: upstream bytes → dialect decoder → canonical chunks → client encoder, pulled as the client reads.</summary>
internal sealed class TranslatedStreamContent(Stream upstream, IChatStreamDecoder decoder, IClientStreamEncoder encoder) : HttpContent, IUsageSource
{
    private readonly UsageCapture _usage = new();
    private readonly Stream _upstream = upstream;
    private readonly IChatStreamDecoder _decoder = decoder;
    private readonly IClientStreamEncoder _encoder = encoder;

    public (TokenUsage? Usage, string? Model) Usage => _usage.Result;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => CopyAsync(stream, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct) => CopyAsync(stream, ct);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new Reader(this));

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _upstream.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task CopyAsync(Stream destination, CancellationToken ct)
    {
        await using var reader = new Reader(this);
        await reader.CopyToAsync(destination, ct).ConfigureAwait(false);
    }

    /// <summary>Pulls and translates one upstream read at a time, so each event reaches the client as soon as it arrives.</summary>
    private sealed class Reader(TranslatedStreamContent owner) : PullStream
    {
        private readonly ArrayBufferWriter<byte> _output = new(4096);
        private readonly List<JsonObject> _chunks = [];
        private readonly byte[] _input = new byte[16 * 1024];
        private int _offset;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            while (_offset >= _output.WrittenCount)
            {
                if (_failure is not null)
                {
                    // The client got the error in its protocol; breaking the connection tells it the answer is incomplete.
                    throw new IOException(_failure.Message, _failure);
                }
                if (_done)
                {
                    return 0;
                }
                _output.ResetWrittenCount();
                _offset = 0;
                var n = await owner._upstream.ReadAsync(_input, ct).ConfigureAwait(false);
                try
                {
                    if (n == 0)
                    {
                        owner._decoder.Finish(_chunks);
                        Encode();
                        owner._encoder.Finish(_output);
                        _done = true;
                    }
                    else
                    {
                        owner._decoder.Feed(_input.AsSpan(0, n), _chunks);
                        Encode();
                    }
                }
                catch (TranslationException ex)
                {
                    // What was decoded before the failure still reaches the client, then the error.
                    Encode();
                    owner._encoder.Fail(ex.Message, _output);
                    _failure = ex;
                }
            }
            var count = Math.Min(buffer.Length, _output.WrittenCount - _offset);
            _output.WrittenMemory.Slice(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        private Exception? _failure;

        private void Encode()
        {
            foreach (var chunk in _chunks)
            {
                owner._usage.Observe(chunk);
                owner._encoder.Encode(chunk, _output);
            }
            _chunks.Clear();
        }

    }
}

/// <summary>Remembers the model and the usage reported in canonical chunks.</summary>
internal sealed class UsageCapture
{
    private JsonObject? _usage;
    private string? _model;

    public (TokenUsage? Usage, string? Model) Result => (_usage is null ? null : CanonicalUsage.Read(_usage), _model);

    public void Observe(JsonObject chunk)
    {
        _model ??= ChatJson.String(chunk["model"]);
        if (chunk["usage"] is JsonObject usage)
        {
            _usage = usage;
        }
    }
}

/// <summary>Canonical (OpenAI-shaped) usage objects, read and built in one place so every provider counts the same way.</summary>
public static class CanonicalUsage
{
    /// <summary>
    /// Usage for a provider that reports uncached input, cache reads and cache writes separately (Anthropic, Bedrock):
    /// <c>prompt_tokens</c> counts all three (SEAM.md). The Anthropic-named cache fields are added when the provider reported cache activity.
    /// </summary>
    public static JsonObject FromCacheSplit(long uncachedInput, long output, long cacheRead, long cacheWrite, bool cacheReported)
    {
        var prompt = uncachedInput + cacheRead + cacheWrite;
        var result = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = output,
            ["total_tokens"] = prompt + output,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cacheRead },
        };
        if (cacheReported)
        {
            result["cache_read_input_tokens"] = cacheRead;
            result["cache_creation_input_tokens"] = cacheWrite;
        }
        return result;
    }

    public static TokenUsage Read(JsonObject usage)
    {
        var prompt = ChatJson.Long(usage["prompt_tokens"]);
        var completion = ChatJson.Long(usage["completion_tokens"]);
        var total = usage.ContainsKey("total_tokens") ? ChatJson.Long(usage["total_tokens"]) : prompt + completion;
        var cached = ChatJson.Long((usage["prompt_tokens_details"] as JsonObject)?["cached_tokens"]);
        var reasoning = ChatJson.Long((usage["completion_tokens_details"] as JsonObject)?["reasoning_tokens"]);
        return new TokenUsage(prompt, completion, total, cached, reasoning, ChatJson.Long(usage["cache_creation_input_tokens"]));
    }
}

/// <summary>Adds <c>stream_options.include_usage: true</c> to a chat request that lacks it.</summary>
internal static class UsageInjection
{
    public static bool TryAdd(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> withUsage)
    {
        withUsage = body;
        if (body.Span.IndexOf("\"include_usage\":true"u8) >= 0)
        {
            return false; // The client asked already (the common SDK spelling): no parse needed.
        }
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }
        if (root is null || ChatIngress.ClientAskedForUsage(root))
        {
            return false;
        }
        var options = root["stream_options"] as JsonObject ?? new JsonObject();
        options["include_usage"] = true;
        root["stream_options"] = options;
        withUsage = ChatJson.Serialize(root);
        return true;
    }
}

/// <summary>An OpenAI chat event stream with the usage-only chunk (asked for by the gateway, not the client) removed; the usage is kept for logs.</summary>
internal sealed class UsageStrippingContent(HttpContent inner) : HttpContent, IUsageSource
{
    private (TokenUsage? Usage, string? Model) _usage;

    public (TokenUsage? Usage, string? Model) Usage => _usage;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var reader = await CreateContentReadStreamAsync().ConfigureAwait(false);
        await reader.CopyToAsync(stream).ConfigureAwait(false);
    }

    protected override async Task<Stream> CreateContentReadStreamAsync() => new Filter(this, await inner.ReadAsStreamAsync().ConfigureAwait(false));

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Passes whole events through as they complete; an event whose data has <c>"choices":[]</c> and a usage is dropped.</summary>
    private sealed class Filter(UsageStrippingContent owner, Stream source) : PullStream
    {
        private readonly byte[] _input = new byte[16 * 1024];
        private readonly ArrayBufferWriter<byte> _pending = new(4096);
        private readonly ArrayBufferWriter<byte> _output = new(4096);
        private int _offset;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            while (_offset >= _output.WrittenCount)
            {
                if (_done)
                {
                    return 0;
                }
                _output.ResetWrittenCount();
                _offset = 0;
                var n = await source.ReadAsync(_input, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    _done = true;
                    Emit(_pending.WrittenSpan);
                    _pending.ResetWrittenCount();
                    continue;
                }
                Split(_input.AsSpan(0, n));
            }
            var count = Math.Min(buffer.Length, _output.WrittenCount - _offset);
            _output.WrittenMemory.Slice(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        private void Split(ReadOnlySpan<byte> data)
        {
            _pending.Write(data);
            var span = _pending.WrittenSpan;
            var start = 0;
            while (true)
            {
                var end = EventEnd(span[start..]);
                if (end < 0)
                {
                    break;
                }
                Emit(span.Slice(start, end));
                start += end;
            }
            if (start > 0)
            {
                var rest = span[start..].ToArray();
                _pending.ResetWrittenCount();
                _pending.Write(rest);
            }
        }

        /// <summary>Length up to and including the blank line that ends the first event, or -1.</summary>
        private static int EventEnd(ReadOnlySpan<byte> span)
        {
            for (var i = 0; i + 1 < span.Length; i++)
            {
                if (span[i] == '\n' && span[i + 1] == '\n')
                {
                    return i + 2;
                }
                if (span[i] == '\r' && i + 3 < span.Length && span[i + 1] == '\n' && span[i + 2] == '\r' && span[i + 3] == '\n')
                {
                    return i + 4;
                }
            }
            return -1;
        }

        private void Emit(ReadOnlySpan<byte> evt)
        {
            if (evt.IsEmpty)
            {
                return;
            }
            if (evt.IndexOf("\"choices\":[]"u8) >= 0 && evt.IndexOf("\"usage\""u8) >= 0)
            {
                var data = evt.IndexOf("data:"u8);
                if (data >= 0)
                {
                    owner._usage = UsageReader.FromJson(evt[(data + 5)..].Trim((byte)' ').TrimEnd("\r\n"u8));
                    return;
                }
            }
            WriteWithoutNullUsage(evt);
        }

        /// <summary>With include_usage, OpenAI puts <c>"usage":null</c> on every chunk; a client that did not ask gets chunks without it.</summary>
        private void WriteWithoutNullUsage(ReadOnlySpan<byte> evt)
        {
            while (true)
            {
                var at = evt.IndexOf(",\"usage\":"u8);
                if (at < 0)
                {
                    break;
                }
                var rest = evt[(at + 9)..];
                var skip = rest.Length > 0 && rest[0] == ' ' ? 1 : 0;
                if (!rest[skip..].StartsWith("null"u8))
                {
                    break;
                }
                _output.Write(evt[..at]);
                evt = rest[(skip + 4)..];
            }
            _output.Write(evt);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>A read-only, forward-only stream whose subclasses produce bytes in <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
internal abstract class PullStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default);

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
