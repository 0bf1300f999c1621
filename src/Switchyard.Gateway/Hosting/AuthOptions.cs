using Switchyard.Core.Security.Jwt;

namespace Switchyard.Gateway.Hosting;

/// <summary>Who may use the gateway (<c>AUTH_MODE</c>, <c>API_KEYS_PATH</c>, <c>JWT_*</c>).</summary>
public sealed record AuthOptions
{
    /// <summary>Gateway API keys are accepted on <c>/v1/*</c> (<c>AUTH_MODE</c> includes <c>keys</c>).</summary>
    public bool Keys { get; init; }

    /// <summary>A key file or a directory of key files (<c>API_KEYS_PATH</c>).</summary>
    public string? ApiKeysPath { get; init; }

    /// <summary>JWTs from the customer's identity provider are accepted (<c>AUTH_MODE</c> includes <c>jwt</c>); null when not.</summary>
    public JwtAuthOptions? Jwt { get; init; }

    /// <summary>Some mode is on, so <c>/v1/*</c> needs a credential.</summary>
    public bool Required => Keys || Jwt is not null;

    /// <summary>Reload debounce after a file event (tests shorten it).</summary>
    public TimeSpan ReloadDebounce { get; init; } = TimeSpan.FromMilliseconds(200);

    public static AuthOptions FromEnvironment(Func<string, string?> get)
    {
        var raw = get("AUTH_MODE");
        var modes = (raw ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(m => m.ToLowerInvariant()).Distinct().ToList();
        foreach (var mode in modes)
        {
            if (mode is not ("none" or "keys" or "jwt"))
            {
                throw new FormatException($"AUTH_MODE={raw?.Trim()} is not valid: use none, keys, jwt, or keys,jwt (a request is accepted when any listed mode accepts it).");
            }
        }
        if (modes.Contains("none") && modes.Count > 1)
        {
            throw new FormatException($"AUTH_MODE={raw?.Trim()} is not valid: none cannot be combined with another mode.");
        }
        var keys = modes.Contains("keys");
        var path = get("API_KEYS_PATH") is { } p && !string.IsNullOrWhiteSpace(p) ? p.Trim() : null;
        if (keys && path is null)
        {
            throw new FormatException("AUTH_MODE=keys needs API_KEYS_PATH: a key file or a directory of key files (JSON or YAML).");
        }
        var jwt = modes.Contains("jwt") ? JwtAuthOptions.FromEnvironment(get) : null;
        return new AuthOptions { Keys = keys, ApiKeysPath = path, Jwt = jwt };
    }
}
