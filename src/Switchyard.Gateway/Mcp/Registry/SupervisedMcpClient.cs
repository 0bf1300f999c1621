using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Switchyard.Gateway.Mcp.Registry;

#pragma warning disable MCPEXP002 // The SDK marks subclassing McpClient as extensibility it may change; this wrapper only forwards.

/// <summary>
/// The client of one stdio child, as handed to the proxy: forwards everything to the SDK client and tells the connector whether the
/// session ended because its owner disposed it (a normal close) or on its own (the child died), which drives the restart backoff.
/// </summary>
internal sealed class SupervisedMcpClient : McpClient
{
    private readonly McpClient _inner;
    private int _disposedByOwner;

    public SupervisedMcpClient(McpClient inner, int? processId)
    {
        _inner = inner;
        ProcessId = processId;
    }

    /// <summary>The child's process id, when it was seen at start.</summary>
    public int? ProcessId { get; }

    /// <summary>Whether <see cref="DisposeAsync"/> was called (the proxy closed the session on purpose).</summary>
    public bool DisposedByOwner => Volatile.Read(ref _disposedByOwner) != 0;

    public override ServerCapabilities ServerCapabilities => _inner.ServerCapabilities;

    public override Implementation ServerInfo => _inner.ServerInfo!;

    public override string? ServerInstructions => _inner.ServerInstructions;

    public override Task<ClientCompletionDetails> Completion => _inner.Completion;

    public override string? SessionId => _inner.SessionId;

    public override string? NegotiatedProtocolVersion => _inner.NegotiatedProtocolVersion;

    public override ValueTask<IDictionary<string, InputResponse>> ResolveInputRequestsAsync(IDictionary<string, InputRequest> inputRequests, CancellationToken cancellationToken) =>
        _inner.ResolveInputRequestsAsync(inputRequests, cancellationToken);

    public override Task<JsonRpcResponse> SendRequestAsync(JsonRpcRequest request, CancellationToken cancellationToken = default) =>
        _inner.SendRequestAsync(request, cancellationToken);

    public override Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) =>
        _inner.SendMessageAsync(message, cancellationToken);

    public override IAsyncDisposable RegisterNotificationHandler(string method, Func<JsonRpcNotification, CancellationToken, ValueTask> handler) =>
        _inner.RegisterNotificationHandler(method, handler);

    public override void AddKnownTools(IEnumerable<Tool> tools) => _inner.AddKnownTools(tools);

    public override void RemoveKnownTools(IEnumerable<string> toolNames) => _inner.RemoveKnownTools(toolNames);

    public override void ClearKnownTools() => _inner.ClearKnownTools();

    public override ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _disposedByOwner, 1);
        return _inner.DisposeAsync();
    }
}
