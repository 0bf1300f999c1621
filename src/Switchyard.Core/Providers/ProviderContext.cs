using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Security;

namespace Switchyard.Core.Providers;

/// <summary>What every provider adapter is built from: the engine's settings, the environment for credentials, the clock, extra trusted CAs and a logger.</summary>
public sealed record ProviderContext
{
    public GatewaySettings Settings { get; init; } = new();

    /// <summary>Where adapters read process credentials (AWS_*, AZURE_*, GOOGLE_*); the process environment by default.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Extra CAs trusted for token endpoints (<c>UPSTREAM_CA_FILE</c>).</summary>
    public ExtraCaTrust? Trust { get; init; }

    public ILogger Logger { get; init; } = NullLogger.Instance;
}
