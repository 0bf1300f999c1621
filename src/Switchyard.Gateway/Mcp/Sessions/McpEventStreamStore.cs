using System.Collections.Concurrent;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Switchyard.Gateway.Mcp.Sessions;

#pragma warning disable MCP9006 // The SDK marks the legacy-era (2025-11-25) resumability types obsolete; the gateway serves that era on purpose.

/// <summary>
/// The in-memory <see cref="ISseEventStreamStore"/> behind <c>Last-Event-ID</c> replay on legacy-era (2025-11-25) sessions:
/// each SSE stream (a POST's response stream or the GET stream) keeps its last <see cref="Capacity"/> events, and a stream
/// nobody wrote to or read from for <see cref="Expiry"/> is dropped.
/// </summary>
/// <remarks>
/// The SDK's <c>DistributedCacheEventStreamStore</c> bounds events by time only (each event is its own cache entry) and
/// fails a replay mid-stream when one of them is gone; this store bounds each stream by count as well, and refuses a
/// <c>Last-Event-ID</c> whose following events were already dropped (the SDK then answers 400 "invalid or expired")
/// instead of replaying with a hole. Event ids are <c>{store}_{stream}_{sequence}</c>; the store part is random per
/// process, so an id from another replica or an earlier process is refused rather than confused with a local stream.
/// </remarks>
public sealed class McpEventStreamStore : ISseEventStreamStore
{
    private readonly ConcurrentDictionary<long, EventStream> _streams = new();
    private readonly string _prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    private readonly TimeProvider _time;
    private long _nextStream;
    private long _lastSweep;

    /// <param name="capacity">Events kept per stream (<c>MCP_EVENT_BUFFER</c>), at least 1.</param>
    /// <param name="expiry">How long an untouched stream is kept (the session idle timeout).</param>
    /// <param name="time">The clock; the system clock when null.</param>
    public McpEventStreamStore(int capacity, TimeSpan expiry, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expiry, TimeSpan.Zero);
        Capacity = capacity;
        Expiry = expiry;
        _time = time ?? TimeProvider.System;
        _lastSweep = _time.GetTimestamp();
    }

    /// <summary>Events kept per stream; older ones are dropped first.</summary>
    public int Capacity { get; }

    /// <summary>How long a stream nobody writes to or reads from is kept.</summary>
    public TimeSpan Expiry { get; }

    /// <summary>Streams currently kept (for tests and diagnostics).</summary>
    public int StreamCount => _streams.Count;

    /// <summary>Events currently kept for a session, over all its streams (for tests and diagnostics).</summary>
    public int BufferedEvents(string sessionId) => _streams.Values.Where(s => s.SessionId == sessionId).Sum(s => s.Count);

    /// <inheritdoc />
    public ValueTask<ISseEventStreamWriter> CreateStreamAsync(SseEventStreamOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sweep();
        var number = Interlocked.Increment(ref _nextStream);
        var stream = new EventStream(this, number, options.SessionId, options.StreamId, options.Mode);
        _streams[number] = stream;
        return ValueTask.FromResult<ISseEventStreamWriter>(new Writer(stream));
    }

    /// <inheritdoc />
    public ValueTask<ISseEventStreamReader?> GetStreamReaderAsync(string lastEventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lastEventId);
        Sweep();
        if (!TryParse(lastEventId, out var number, out var sequence) || !_streams.TryGetValue(number, out var stream))
        {
            return ValueTask.FromResult<ISseEventStreamReader?>(null);
        }
        if (IsExpired(stream))
        {
            _streams.TryRemove(number, out _);
            return ValueTask.FromResult<ISseEventStreamReader?>(null);
        }
        stream.KeepAlive();
        return ValueTask.FromResult<ISseEventStreamReader?>(stream.CanReplayAfter(sequence) ? new Reader(stream, sequence) : null);
    }

    private string EventId(long stream, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{_prefix}_{stream}_{sequence}");

    private bool TryParse(string id, out long stream, out long sequence)
    {
        stream = sequence = 0;
        var parts = id.Split('_');
        return parts.Length == 3 && parts[0] == _prefix
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out stream)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    private bool IsExpired(EventStream stream) => _time.GetElapsedTime(stream.LastTouched) > Expiry;

    /// <summary>Drops expired streams, at most once a second (or once per expiry when that is shorter).</summary>
    private void Sweep()
    {
        var last = Interlocked.Read(ref _lastSweep);
        var interval = Expiry < TimeSpan.FromSeconds(1) ? Expiry : TimeSpan.FromSeconds(1);
        if (_time.GetElapsedTime(last) < interval || Interlocked.CompareExchange(ref _lastSweep, _time.GetTimestamp(), last) != last)
        {
            return;
        }
        foreach (var (number, stream) in _streams)
        {
            if (IsExpired(stream))
            {
                _streams.TryRemove(number, out _);
            }
        }
    }

    private sealed class EventStream(McpEventStreamStore store, long number, string sessionId, string streamId, SseEventStreamMode mode)
    {
        private readonly Lock _lock = new();
        private readonly Queue<(long Sequence, SseItem<JsonRpcMessage?> Item)> _events = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _sequence;

        public string SessionId => sessionId;

        public string StreamId => streamId;

        public long LastTouched { get; private set; } = store._time.GetTimestamp();

        public SseEventStreamMode Mode { get; private set; } = mode;

        public bool Completed { get; private set; }

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _events.Count;
                }
            }
        }

        public SseItem<JsonRpcMessage?> Append(SseItem<JsonRpcMessage?> item)
        {
            lock (_lock)
            {
                var sequence = ++_sequence;
                var stored = item with { EventId = store.EventId(number, sequence) };
                _events.Enqueue((sequence, stored));
                while (_events.Count > store.Capacity)
                {
                    _events.Dequeue();
                }
                Touch();
                return stored;
            }
        }

        public void SetMode(SseEventStreamMode value)
        {
            lock (_lock)
            {
                Mode = value;
                Touch();
            }
        }

        public void Complete()
        {
            lock (_lock)
            {
                Completed = true;
                Touch();
            }
        }

        /// <summary>True when every event after <paramref name="sequence"/> is still kept.</summary>
        public bool CanReplayAfter(long sequence)
        {
            lock (_lock)
            {
                var first = _events.Count > 0 ? _events.Peek().Sequence : _sequence + 1;
                return sequence <= _sequence && sequence + 1 >= first;
            }
        }

        /// <summary>The kept events after <paramref name="cursor"/>; <c>Lost</c> when some were dropped before being read.</summary>
        public (List<SseItem<JsonRpcMessage?>> Items, long Cursor, bool Lost, bool Ended, Task Changed) ReadAfter(long cursor)
        {
            lock (_lock)
            {
                LastTouched = store._time.GetTimestamp();
                var items = new List<SseItem<JsonRpcMessage?>>();
                var lost = _events.Count > 0 && _events.Peek().Sequence > cursor + 1;
                foreach (var (sequence, item) in _events)
                {
                    if (sequence > cursor)
                    {
                        items.Add(item);
                        cursor = sequence;
                    }
                }
                return (items, cursor, lost, Completed || Mode == SseEventStreamMode.Polling, _changed.Task);
            }
        }

        public void KeepAlive()
        {
            lock (_lock)
            {
                LastTouched = store._time.GetTimestamp();
            }
        }

        private void Touch()
        {
            LastTouched = store._time.GetTimestamp();
            var changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }

    private sealed class Writer(EventStream stream) : ISseEventStreamWriter
    {
        public ValueTask SetModeAsync(SseEventStreamMode mode, CancellationToken cancellationToken = default)
        {
            stream.SetMode(mode);
            return ValueTask.CompletedTask;
        }

        public ValueTask<SseItem<JsonRpcMessage?>> WriteEventAsync(SseItem<JsonRpcMessage?> sseItem, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(sseItem.EventId is not null ? sseItem : stream.Append(sseItem));

        public ValueTask DisposeAsync()
        {
            stream.Complete();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Reader(EventStream stream, long after) : ISseEventStreamReader
    {
        public string SessionId => stream.SessionId;

        public string StreamId => stream.StreamId;

        public async IAsyncEnumerable<SseItem<JsonRpcMessage?>> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var cursor = after;
            while (!cancellationToken.IsCancellationRequested)
            {
                var (items, next, lost, ended, changed) = stream.ReadAfter(cursor);
                if (lost)
                {
                    // The reader fell more than a buffer behind: end here, and a reconnect with the last id gets a clear 400.
                    yield break;
                }
                cursor = next;
                foreach (var item in items)
                {
                    yield return item;
                }
                if (ended)
                {
                    yield break;
                }
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
