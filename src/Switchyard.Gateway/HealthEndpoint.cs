using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Switchyard.Gateway;

/// <summary><c>GET /v1/health</c>: Portkey's body plus version, uptime and the state of the named-config store.</summary>
internal sealed class HealthEndpoint(GatewayEngine engine)
{
    public static readonly string Version =
        typeof(HealthEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private readonly long _started = Stopwatch.GetTimestamp();

    public async Task HandleAsync(HttpContext context)
    {
        var store = engine.NamedConfigs.Current;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", "success");
        json.WriteString("message", "Server is healthy");
        json.WriteString("version", Version);
        json.WriteNumber("uptime_seconds", Math.Round(Stopwatch.GetElapsedTime(_started).TotalSeconds, 3));
        json.WriteStartObject("config_store");
        json.WriteString("state", store.State);
        json.WriteString("directory", engine.NamedConfigs.Directory);
        json.WriteBoolean("directory_exists", store.DirectoryExists);
        json.WriteNumber("generation", store.Generation);
        json.WriteString("loaded_at", store.LoadedAt);
        json.WriteStartArray("configs");
        foreach (var name in store.Configs.Keys.Order(StringComparer.Ordinal))
        {
            json.WriteStringValue(name);
        }
        json.WriteEndArray();
        json.WriteStartArray("problems");
        foreach (var p in store.Problems)
        {
            json.WriteStartObject();
            json.WriteString("file", p.File);
            json.WriteString("path", p.Path);
            json.WriteString("message", p.Message);
            json.WriteBoolean("kept_previous_version", p.KeptPreviousVersion);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("warnings");
        foreach (var w in store.Warnings)
        {
            json.WriteStringValue(w);
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
