namespace Switchyard.Gateway.Mcp;

/// <summary>What health shows about the servers file(s).</summary>
public sealed record McpRegistryStatus
{
    /// <summary><c>ok</c>, <c>degraded</c> (a file has problems; its last good version serves) or <c>missing</c> (no file at the path).</summary>
    public required string State { get; init; }

    public required string Path { get; init; }

    public int Servers { get; init; }

    public int VirtualServers { get; init; }

    public long Generation { get; init; }

    public DateTimeOffset LoadedAt { get; init; }

    /// <summary>One line per problem: file, JSON path, message (never a secret value).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>The current upstream servers, swapped whole on every reload of the servers file(s).</summary>
public interface IMcpRegistrySource
{
    McpRegistry Current { get; }

    McpRegistryStatus Status { get; }

    /// <summary>Raised after a reload swapped <see cref="Current"/>.</summary>
    event Action<McpRegistry>? Changed;
}

/// <summary>A fixed registry (tests, embedding).</summary>
public sealed class StaticMcpRegistrySource(McpRegistry registry) : IMcpRegistrySource
{
    private McpRegistry _current = registry;

    public McpRegistry Current => _current;

    public McpRegistryStatus Status => new() { State = "ok", Path = "(static)", Servers = _current.Servers.Count, VirtualServers = _current.VirtualServers.Count };

    public event Action<McpRegistry>? Changed;

    /// <summary>Swaps the registry, as a reload would.</summary>
    public void Set(McpRegistry registry)
    {
        _current = registry;
        Changed?.Invoke(registry);
    }
}
