using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Security;

namespace Switchyard.Core.Providers;

/// <summary>What every provider adapter is built from: the upstream and GCP settings, the environment for credentials, the clock, extra trusted CAs and a logger.</summary>
public sealed record ProviderContext
{
    /// <summary>Base-URL overrides and the other upstream settings.</summary>
    public UpstreamOptions Upstream { get; init; } = new();

    /// <summary>Vertex AI's default credential and metadata server.</summary>
    public Google.GcpOptions Gcp { get; init; } = new();

    /// <summary>Where adapters read process credentials (AWS_*, AZURE_*, GOOGLE_*); the process environment by default.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>The engine's clock; every adapter and token source reads the time from it.</summary>
    // The system clock only for ProviderRegistry.Default and tests; the engine always passes its own.
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Extra CAs trusted for token endpoints (<c>UPSTREAM_CA_FILE</c>).</summary>
    public ExtraCaTrust? Trust { get; init; }

    public ILogger Logger { get; init; } = NullLogger.Instance;
}
