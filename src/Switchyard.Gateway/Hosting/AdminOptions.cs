using System.Net;
using Switchyard.Core;

namespace Switchyard.Gateway.Hosting;

/// <summary>The admin API's listener and key-file settings (<c>ADMIN_PORT</c>, <c>ADMIN_BIND_ADDRESS</c>, <c>API_KEYS_WRITABLE_FILE</c>).</summary>
public sealed record AdminOptions
{
    private static readonly string[] KeyFileExtensions = [".json", ".yaml", ".yml"];

    /// <summary>
    /// A port of its own for <c>/v1/admin</c> (<c>ADMIN_PORT</c>; 0 picks a free one). When set, the main port answers 404 there,
    /// so the admin API can be kept off the public listener (a NetworkPolicy or a loopback bind then guards it).
    /// </summary>
    public int? Port { get; init; }

    /// <summary>The admin listener's address (<c>ADMIN_BIND_ADDRESS</c>); null uses <c>BIND_ADDRESS</c>.</summary>
    public string? BindAddress { get; init; }

    /// <summary>
    /// The one key file the admin API creates keys in and revokes them from (<c>API_KEYS_WRITABLE_FILE</c>), as a full path. It lies
    /// inside <c>API_KEYS_PATH</c> so the store loads what the admin API writes; every other key file stays read-only (git-managed).
    /// </summary>
    public string? WritableKeyFile { get; init; }

    public static AdminOptions FromEnvironment(Func<string, string?> get, int mainPort, int? metricsPort, AuthOptions auth)
    {
        int? port = null;
        if (EnvironmentValues.NonEmpty(get("ADMIN_PORT")) is not null)
        {
            port = EnvironmentValues.Int(get, "ADMIN_PORT", 0, 0, 65535);
            if (port != 0 && port == mainPort)
            {
                throw new FormatException($"ADMIN_PORT={port} is the main PORT: give the admin API a port of its own, or unset ADMIN_PORT to serve /v1/admin on the main port.");
            }
            if (port != 0 && port == metricsPort)
            {
                throw new FormatException($"ADMIN_PORT={port} is METRICS_PORT: the admin API and /metrics need ports of their own.");
            }
        }
        var bind = EnvironmentValues.NonEmpty(get("ADMIN_BIND_ADDRESS"));
        if (bind is not null)
        {
            if (port is null)
            {
                throw new FormatException("ADMIN_BIND_ADDRESS is set without ADMIN_PORT: the admin API has no listener of its own to bind; set ADMIN_PORT too.");
            }
            if (bind != "localhost" && !IPAddress.TryParse(bind, out _))
            {
                throw new FormatException($"ADMIN_BIND_ADDRESS={bind} is not valid: use an IP address such as 127.0.0.1, 0.0.0.0 or ::, or localhost.");
            }
        }
        return new AdminOptions { Port = port, BindAddress = bind, WritableKeyFile = WritableFile(get("API_KEYS_WRITABLE_FILE"), auth) };
    }

    private static string? WritableFile(string? raw, AuthOptions auth)
    {
        if (EnvironmentValues.NonEmpty(raw) is not { } value)
        {
            return null;
        }
        if (!auth.Keys || auth.ApiKeysPath is null)
        {
            throw new FormatException($"API_KEYS_WRITABLE_FILE={value} needs AUTH_MODE=keys with API_KEYS_PATH: keys written there would never be loaded.");
        }
        string file, keysPath;
        try
        {
            file = Path.GetFullPath(value);
            keysPath = Path.GetFullPath(auth.ApiKeysPath);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new FormatException($"API_KEYS_WRITABLE_FILE={value} is not a valid path: {ex.Message}");
        }
        var name = Path.GetFileName(file);
        // The store reads .json/.yaml/.yml files whose names do not start with '.', and only directly inside the directory.
        if (name.Length == 0 || name.StartsWith('.') || !KeyFileExtensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase))
        {
            throw new FormatException($"API_KEYS_WRITABLE_FILE={value} is not a key file name the store loads: use a name ending .yaml, .yml or .json that does not start with '.'.");
        }
        var same = string.Equals(file, keysPath, StringComparison.Ordinal);
        var inside = !File.Exists(keysPath)
                     && string.Equals(Path.GetDirectoryName(file), keysPath.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
        if (!same && !inside)
        {
            throw new FormatException($"API_KEYS_WRITABLE_FILE={value} is not inside API_KEYS_PATH={auth.ApiKeysPath}: it must be that key file itself, or a file directly in that directory, so the gateway loads the keys the admin API writes.");
        }
        if (Directory.Exists(file))
        {
            throw new FormatException($"API_KEYS_WRITABLE_FILE={value} is a directory: name a key file.");
        }
        return file;
    }
}
