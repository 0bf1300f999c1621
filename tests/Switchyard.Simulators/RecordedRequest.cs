using System.Text;

namespace Switchyard.Simulators;

/// <summary>One request as the simulator received it, plus how its response ended.</summary>
public sealed class RecordedRequest
{
    private readonly TaskCompletionSource<RecordedRequest> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _eventsSent;
    private volatile bool _aborted;
    private volatile int _statusCode;

    internal RecordedRequest(string method, string path, string query, IReadOnlyDictionary<string, string> headers, byte[] body, DateTimeOffset receivedAt)
    {
        Method = method;
        Path = path;
        Query = query;
        Headers = headers;
        Body = body;
        ReceivedAt = receivedAt;
    }

    /// <summary>HTTP method, for example <c>POST</c>.</summary>
    public string Method { get; }

    /// <summary>Request path including any gateway prefix.</summary>
    public string Path { get; }

    /// <summary>Query string including the leading <c>?</c>, or empty.</summary>
    public string Query { get; }

    /// <summary>Request headers (case-insensitive names; repeated values joined with ", ").</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Raw request body.</summary>
    public byte[] Body { get; }

    /// <summary>Request body decoded as UTF-8.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>When the simulator started handling the request.</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>True when the connection went away (client left, or a cut fault) before the response finished.</summary>
    public bool Aborted => _aborted;

    /// <summary>Stream events written and flushed so far.</summary>
    public int EventsSent => Volatile.Read(ref _eventsSent);

    /// <summary>Status code the simulator chose (0 until decided).</summary>
    public int StatusCode => _statusCode;

    /// <summary>The scripted fault this request consumed, if any.</summary>
    public SimulatedFault? Fault { get; internal set; }

    /// <summary>True once the response has ended, normally or not.</summary>
    public bool IsFinished => _finished.Task.IsCompleted;

    internal Task<RecordedRequest> Finished => _finished.Task;

    /// <summary>Completes when the response has ended, normally or not (see <see cref="Aborted"/>).</summary>
    public Task<RecordedRequest> Completion => _finished.Task;

    internal void SetStatus(int statusCode) => _statusCode = statusCode;

    internal void CountEvent() => Interlocked.Increment(ref _eventsSent);

    internal void Finish(bool aborted)
    {
        _aborted = aborted;
        _finished.TrySetResult(this);
    }
}
