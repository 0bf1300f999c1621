using System.Text;
using System.Text.Json;

namespace Switchyard.Tests.Streaming.Relay;

/// <summary>
/// A streaming client of the gateway: reads the event stream in the background as it arrives, keeps the text deltas
/// of whichever client protocol it is (chat chunks, Anthropic messages events, Responses events), and can hang up
/// mid-stream like a browser tab that is closed (the connection is aborted, not drained).
/// </summary>
internal sealed class ClientStream : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _hangUp = new();
    private readonly Lock _lock = new();
    private readonly List<string> _events = [];
    private readonly StringBuilder _text = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _pump = Task.CompletedTask;
    private bool _ended;
    private bool _terminal;
    private bool _sawUsage;
    private Exception? _failure;

    private ClientStream(HttpClient client, HttpResponseMessage response)
    {
        _client = client;
        Response = response;
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Text deltas received so far, concatenated.</summary>
    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>Words of <see cref="Text"/> (pieces are whole words, so this counts the text events that arrived).</summary>
    public int Words => Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Raw events received so far.</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The body has ended (normally, broken, or because the client hung up).</summary>
    public bool Ended
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>The protocol's terminal event arrived: <c>[DONE]</c>, <c>message_stop</c> or <c>response.completed</c>.</summary>
    public bool Terminal
    {
        get
        {
            lock (_lock)
            {
                return _terminal;
            }
        }
    }

    /// <summary>A chat chunk carried a <c>usage</c> field.</summary>
    public bool SawUsage
    {
        get
        {
            lock (_lock)
            {
                return _sawUsage;
            }
        }
    }

    /// <summary>Why the body ended early, if it broke.</summary>
    public Exception? Failure
    {
        get
        {
            lock (_lock)
            {
                return _failure;
            }
        }
    }

    /// <summary>Sends <paramref name="request"/> on a connection of its own and starts reading once the headers are in.</summary>
    public static async Task<ClientStream> OpenAsync(Uri gateway, HttpRequestMessage request, TimeSpan headersWithin)
    {
        // No draining on dispose: hanging up must close the connection at once, as a closed browser tab does.
        var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = gateway, Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using var headers = new CancellationTokenSource(headersWithin);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
            var stream = new ClientStream(client, response);
            stream._pump = Task.Run(stream.PumpAsync);
            return stream;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; false if it did not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitUntilAsync(Func<ClientStream, bool> condition, TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }
            if (condition(this))
            {
                return true;
            }
            try
            {
                await changed.WaitAsync(timer.Token);
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested)
            {
                return condition(this);
            }
        }
    }

    /// <summary>Hangs up mid-stream: the pending read is cancelled, which aborts the connection.</summary>
    public async Task HangUpAsync()
    {
        await _hangUp.CancelAsync();
        await _pump.WaitAsync(TimeSpan.FromSeconds(10));
        Response.Dispose();
        _client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await HangUpAsync();
        }
        catch (TimeoutException)
        {
            // The pump is stuck in a read the cancellation did not reach; disposing the client below ends it.
            Response.Dispose();
            _client.Dispose();
        }
        _hangUp.Dispose();
    }

    private async Task PumpAsync()
    {
        var block = new StringBuilder();
        try
        {
            await using var body = await Response.Content.ReadAsStreamAsync(_hangUp.Token);
            using var reader = new StreamReader(body, Encoding.UTF8);
            while (await reader.ReadLineAsync(_hangUp.Token) is { } line)
            {
                if (line.Length > 0)
                {
                    block.AppendLine(line);
                    continue;
                }
                if (block.Length > 0)
                {
                    Commit(block.ToString());
                    block.Clear();
                }
            }
            if (block.Length > 0)
            {
                Commit(block.ToString());
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException or JsonException)
        {
            lock (_lock)
            {
                _failure = ex;
            }
        }
        finally
        {
            lock (_lock)
            {
                _ended = true;
            }
            Pulse();
        }
    }

    private void Commit(string evt)
    {
        string? name = null;
        var data = new StringBuilder();
        foreach (var line in evt.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var l = line.TrimEnd('\r');
            if (l.StartsWith("event:", StringComparison.Ordinal))
            {
                name = l["event:".Length..].Trim();
            }
            else if (l.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(l["data:".Length..].TrimStart());
            }
        }
        var (text, terminal, usage) = Read(name, data.ToString());
        lock (_lock)
        {
            _events.Add(evt);
            _text.Append(text);
            _terminal |= terminal;
            _sawUsage |= usage;
        }
        Pulse();
    }

    /// <summary>The text delta an event carries in any of the three client protocols, and whether it ends the stream.</summary>
    private static (string Text, bool Terminal, bool Usage) Read(string? name, string data)
    {
        if (data == "[DONE]")
        {
            return ("", true, false);
        }
        if (data.Length == 0)
        {
            return ("", false, false);
        }
        using var doc = JsonDocument.Parse(data);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ("", false, false);
        }
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
            }
            return (text.ToString(), false, root.TryGetProperty("usage", out _));
        }
        var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : name;
        return type switch
        {
            "content_block_delta" when root.GetProperty("delta") is var d && d.GetProperty("type").GetString() == "text_delta" => (d.GetProperty("text").GetString() ?? "", false, false),
            "response.output_text.delta" => (root.GetProperty("delta").GetString() ?? "", false, false),
            "message_stop" or "response.completed" => ("", true, false),
            _ => ("", false, false),
        };
    }

    private void Pulse()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }
}
