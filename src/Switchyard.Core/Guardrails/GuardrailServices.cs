using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Guardrails.Jwt;
using Switchyard.Core.Security;

namespace Switchyard.Core.Guardrails;

/// <summary>What compiled checks need from the host: outbound HTTP, the SSRF rules, a clock, a logger and the JWKS cache.</summary>
/// <remarks>
/// One instance serves every config compiled by the gateway, so the JWKS cache is shared across configs and reloads.
/// The HTTP invoker should not follow redirects by itself: checks follow them one hop at a time and put every
/// <c>Location</c> through <see cref="Hosts"/>, which an auto-redirecting handler would bypass.
/// </remarks>
public sealed class GuardrailServices
{
    public GuardrailServices(HttpMessageInvoker http, CustomHostValidator hosts, TimeProvider? time = null, ILogger? logger = null)
    {
        Http = http ?? throw new ArgumentNullException(nameof(http));
        Hosts = hosts ?? throw new ArgumentNullException(nameof(hosts));
        // The system clock only for services built outside the engine (tests, ConfigCompiler's default); SwitchyardEngine passes its own.
        Time = time ?? TimeProvider.System;
        Logger = logger ?? NullLogger.Instance;
        Jwks = new JwksCache(this);
    }

    /// <summary>Sends webhook, log, URL-validation, JWKS and image requests.</summary>
    public HttpMessageInvoker Http { get; }

    /// <summary>The SSRF rules every outbound URL must pass (configured URLs at compile time, request-supplied URLs per call).</summary>
    public CustomHostValidator Hosts { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>Key sets fetched for <c>default.jwt</c>, cached per URI.</summary>
    public JwksCache Jwks { get; }

    /// <summary>Resolves a host name for <c>validUrls</c> with <c>onlyDNS</c> (the system resolver by default).</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> ResolveHost { get; init; } = Dns.GetHostAddressesAsync;

    /// <summary>The match timeout of every configured regular expression (a guard against catastrophic backtracking).</summary>
    public TimeSpan RegexTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How soon a token with an unknown <c>kid</c> may make <c>default.jwt</c> fetch the same JWKS again.</summary>
    public TimeSpan JwksMinRefetchInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest response body a check reads from a webhook, log or JWKS endpoint.</summary>
    public int MaxResponseBytes { get; init; } = 1024 * 1024;
}
