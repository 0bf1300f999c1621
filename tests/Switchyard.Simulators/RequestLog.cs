using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators;

/// <summary>Thread-safe, arrival-ordered record of requests, with waits for arrivals and completions.</summary>
internal sealed class RequestLog
{
    private readonly List<RecordedRequest> _requests = [];
    private readonly ChangeSignal _arrivals = new();

    public IReadOnlyList<RecordedRequest> Snapshot()
    {
        lock (_requests)
        {
            return _requests.ToArray();
        }
    }

    public void Clear()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    public RecordedRequest Add(HttpRequest request, byte[] body, DateTimeOffset receivedAt)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = string.Join(", ", values.ToArray());
        }

        var recorded = new RecordedRequest(
            request.Method,
            request.PathBase.Add(request.Path).Value ?? "",
            request.QueryString.Value ?? "",
            headers,
            body,
            receivedAt);
        lock (_requests)
        {
            _requests.Add(recorded);
        }

        _arrivals.Pulse();
        return recorded;
    }

    public async Task<RecordedRequest> WaitForCompletionAsync(int index, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var deadline = DateTime.UtcNow + timeout;
        RecordedRequest? recorded = null;
        await _arrivals.WaitUntilAsync(
            () =>
            {
                lock (_requests)
                {
                    recorded = index < _requests.Count ? _requests[index] : null;
                }

                return recorded is not null;
            },
            timeout,
            $"request #{index} to arrive").ConfigureAwait(false);

        var remaining = deadline - DateTime.UtcNow;
        try
        {
            return await recorded!.Finished.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout} waiting for request #{index} ({recorded!.Method} {recorded.Path}) to finish.");
        }
    }
}
