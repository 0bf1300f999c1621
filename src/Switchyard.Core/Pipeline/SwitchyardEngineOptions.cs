using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Switchyard.Core.Pipeline;

/// <summary>What an engine is built from besides its settings: the environment, the clock, logging and the upstream HTTP stack.</summary>
public sealed record SwitchyardEngineOptions
{
    /// <summary>Where <c>${NAME}</c> references and provider credentials (AWS_*, AZURE_*, …) are looked up; the process environment by default.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>The one clock of the engine: retries, timeouts, cache expiry, timings (tests inject their own).</summary>
    // The composition root's default: the one place an engine picks the system clock.
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The HTTP stack for every upstream call; a pooled <see cref="SocketsHttpHandler"/> by default.</summary>
    public HttpMessageHandler? UpstreamHandler { get; init; }
}
