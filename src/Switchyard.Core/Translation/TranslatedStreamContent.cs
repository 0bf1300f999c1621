using System.Buffers;
using System.Net;

using System.Text.Json.Nodes;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Streaming;
using Switchyard.Core.Usage;

namespace Switchyard.Core.Translation;

/// <summary>A translated event stream: upstream bytes → dialect decoder → canonical chunks → client encoder, pulled as the client reads.</summary>
internal sealed class TranslatedStreamContent(Stream upstream, IChatStreamDecoder decoder, IClientStreamEncoder encoder, IUsageSink sink) : HttpContent
{
    private readonly UsageCapture _usage = new();
    private readonly IUsageSink _sink = sink;
    private readonly Stream _upstream = upstream;
    private readonly IChatStreamDecoder _decoder = decoder;
    private readonly IClientStreamEncoder _encoder = encoder;

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

    private void ReportUsage()
    {
        var (usage, model) = _usage.Result;
        _sink.ReportUsage(usage, model);
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
        private int _offset;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (buffer.IsEmpty)
            {
                // A reader waiting for data: pass the wait on unless there is output (or an end or failure to report).
                if (_offset >= _output.WrittenCount && !_done && _failure is null)
                {
                    _ = await owner._upstream.ReadAsync(buffer, ct).ConfigureAwait(false);
                }
                return 0;
            }
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
                try
                {
                    var n = await ReadPooledAsync(owner._upstream, this, static (self, input) => self.Feed(input), ct).ConfigureAwait(false);
                    if (n == 0)
                    {
                        owner._decoder.Finish(_chunks);
                        Encode();
                        owner._encoder.Finish(_output);
                        _done = true;
                        owner.ReportUsage();
                    }
                }
                catch (TranslationException ex)
                {
                    // What was decoded before the failure still reaches the client, then the error.
                    Encode();
                    owner._encoder.Fail(ex.Message, _output);
                    _failure = ex;
                    owner.ReportUsage();
                }
            }
            var count = Math.Min(buffer.Length, _output.WrittenCount - _offset);
            _output.WrittenMemory.Slice(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        private Exception? _failure;

        private void Feed(ReadOnlySpan<byte> input)
        {
            if (!input.IsEmpty)
            {
                owner._decoder.Feed(input, _chunks);
                Encode();
            }
        }

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
