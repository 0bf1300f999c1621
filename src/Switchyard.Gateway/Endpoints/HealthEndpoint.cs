using System.Reflection;
using System.Text.Json;
using Switchyard.Core.Pipeline;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/health</c>: Portkey's body plus version, uptime, readiness and the state of the named-config store, and with the
/// MCP gateway on (<c>SERVER_MODE</c> <c>mcp</c> or <c>all</c>) an <c>mcp</c> object: mode, port and the servers file's state.
/// </summary>
/// <remarks>Always 200 while the process serves (the liveness answer); whether it should get traffic is <see cref="ReadinessEndpoint"/>'s.</remarks>
internal sealed class HealthEndpoint(SwitchyardEngine engine, GatewayReadiness readiness, Switchyard.Gateway.Hosting.LoadShedder shedder,
    Core.Security.ApiKeys.ApiKeyStore? keys = null, Core.Security.Jwt.JwtAuthenticator? jwt = null, ServerOptions? server = null,
    Mcp.IMcpRegistrySource? mcpRegistry = null, Mcp.Hosting.McpListener? mcpListener = null, Mcp.Registry.McpConnector? mcpConnector = null,
    Mcp.Proxy.McpProxy? mcpProxy = null)
{
    public static readonly string Version =
        typeof(HealthEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private readonly long _started = engine.Time.GetTimestamp();

    public async Task HandleAsync(HttpContext context)
    {
        var store = engine.NamedConfigs.Current;
        var notReady = await readiness.ReasonsAsync(context.RequestAborted);
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", "success");
        json.WriteString("message", "Server is healthy");
        json.WriteString("version", Version);
        json.WriteNumber("uptime_seconds", Math.Round(engine.Time.GetElapsedTime(_started).TotalSeconds, 3));
        json.WriteStartObject("readiness");
        ReadinessEndpoint.Write(json, notReady, "state");
        json.WriteEndObject();
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
        WriteProblems(json, store.Problems, store.Warnings);
        json.WriteEndObject();
        WriteKeys(json, keys);
        WriteJwt(json, jwt);
        WriteVirtualKeys(json, engine.VirtualKeys);
        WriteCache(json, engine);
        WriteLogs(json, engine);
        WriteLimits(json, shedder);
        WriteUsageLimits(json, engine.Limiter);
        WriteMcp(json, context);
        json.WriteEndObject();
    }

    /// <summary>The MCP gateway: its mode and port, and the servers file(s) like the other watched stores (<c>degraded</c> when a file has problems).</summary>
    private void WriteMcp(Utf8JsonWriter json, HttpContext context)
    {
        if (server is null || !server.Mode.ServesMcp() || mcpRegistry is null)
        {
            return;
        }
        json.WriteStartObject("mcp");
        json.WriteString("mode", server.Mode == ServerMode.Mcp ? "mcp" : "all");
        var port = mcpListener is { IsConfigured: true } ? mcpListener.Port : context.Connection.LocalPort;
        json.WriteNumber("port", port);
        json.WriteBoolean("on_main_port", server.McpOnMainPort);
        var status = mcpRegistry.Status;
        json.WriteString("state", status.State);
        json.WriteString("path", status.Path);
        json.WriteNumber("servers", status.Servers);
        json.WriteNumber("virtual_servers", status.VirtualServers);
        json.WriteNumber("generation", status.Generation);
        json.WriteString("loaded_at", status.LoadedAt);
        json.WriteStartArray("problems");
        foreach (var problem in status.Problems)
        {
            json.WriteStringValue(problem);
        }
        json.WriteEndArray();
        json.WriteStartArray("warnings");
        foreach (var warning in status.Warnings)
        {
            json.WriteStringValue(warning);
        }
        json.WriteEndArray();
        if (mcpProxy is not null)
        {
            json.WriteNumber("sessions", mcpProxy.Bindings.Count);
            json.WriteNumber("name_collisions", mcpProxy.NameCollisions);
            json.WriteNumber("upstreams_left_out", mcpProxy.UpstreamsLeftOut);
        }
        if (mcpConnector is not null)
        {
            // Per upstream: the era it speaks, when it last answered, and what went wrong last (never a secret: messages name the server only).
            json.WriteStartObject("upstreams");
            foreach (var (id, upstream) in mcpConnector.Snapshot().OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject(id);
                json.WriteString("transport", upstream.Transport);
                if (upstream.ProtocolVersion is { } version)
                {
                    json.WriteString("protocol_version", version);
                }
                if (upstream.LastConnectedAt is { } connected)
                {
                    json.WriteString("last_connected_at", connected);
                }
                if (upstream.LastError is { } lastError)
                {
                    json.WriteString("last_error", lastError);
                    json.WriteString("last_error_at", upstream.LastErrorAt ?? default);
                }
                json.WriteNumber("connects", upstream.Connects);
                json.WriteNumber("failures", upstream.Failures);
                if (upstream.Restarts > 0 || upstream.Crashes > 0)
                {
                    json.WriteNumber("crashes", upstream.Crashes);
                    json.WriteNumber("restarts", upstream.Restarts);
                }
                if (upstream.RetryAt is { } retry)
                {
                    json.WriteString("retry_at", retry);
                }
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    /// <summary>Rate limits and budgets: where the counters are (<c>redis</c>, <c>local</c>, <c>degraded</c>) and the limits file's state.</summary>
    private static void WriteUsageLimits(Utf8JsonWriter json, Core.Limits.UsageLimiter limiter)
    {
        json.WriteStartObject("usage_limits");
        json.WriteString("state", limiter.State);
        json.WriteNumber("replicas", limiter.Options.Replicas);
        if (limiter.Problem is { } problem)
        {
            json.WriteString("problem", problem);
        }
        if (limiter.File is { } file)
        {
            json.WriteString("path", limiter.FilePath);
            json.WriteString("file_state", file.State);
            json.WriteNumber("generation", file.Generation);
            json.WriteNumber("teams", file.Index.Teams.Count);
            json.WriteNumber("models", file.Index.Models.Count);
            json.WriteNumber("policies", file.Index.Policies.Count);
            WriteProblems(json, file.Problems, file.Warnings);
        }
        else
        {
            json.WriteNull("path");
        }
        json.WriteEndObject();
    }

    /// <summary>A watched store's load problems (file, JSON path, message, whether the last good version still serves) and warnings.</summary>
    internal static void WriteProblems(Utf8JsonWriter json, IReadOnlyList<Switchyard.Core.Configs.ConfigLoadProblem> problems, IReadOnlyList<string> warnings)
    {
        json.WriteStartArray("problems");
        foreach (var p in problems)
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
        foreach (var w in warnings)
        {
            json.WriteStringValue(w);
        }
        json.WriteEndArray();
    }

    /// <summary>The limits the gateway sheds load against, what it uses of them, and what it refused.</summary>
    private static void WriteLimits(Utf8JsonWriter json, Switchyard.Gateway.Hosting.LoadShedder shedder)
    {
        var limits = shedder.Limits;
        json.WriteStartObject("limits");
        json.WriteString("memory_limit_source", limits.MemoryLimitSource);
        if (limits.MemoryLimit is { } memory)
        {
            json.WriteNumber("memory_limit_bytes", memory);
            json.WriteNumber("memory_in_use_bytes", shedder.MemoryInUse);
        }
        else
        {
            json.WriteNull("memory_limit_bytes");
        }
        if (limits.CpuLimit is { } cpu)
        {
            json.WriteNumber("cpu_limit_cores", Math.Round(cpu, 3));
        }
        else
        {
            json.WriteNull("cpu_limit_cores");
        }
        json.WriteNumber("processor_count", Environment.ProcessorCount);
        if (limits.OpenFilesLimit is { } files)
        {
            json.WriteNumber("open_files_limit", files);
        }
        json.WriteNumber("max_concurrent_requests", shedder.MaxConcurrent);
        json.WriteNumber("in_flight", shedder.InFlight);
        json.WriteBoolean("memory_pressure", shedder.MemoryPressure);
        json.WriteNumber("shed_for_concurrency", shedder.ShedForConcurrency);
        json.WriteNumber("shed_for_memory", shedder.ShedForMemory);
        json.WriteEndObject();
    }

    /// <summary>Gateway API keys: how many are loaded and what is wrong with the key files (never a hash or a key).</summary>
    private static void WriteKeys(Utf8JsonWriter json, Core.Security.ApiKeys.ApiKeyStore? keys)
    {
        json.WriteStartObject("keys");
        if (keys is null)
        {
            json.WriteString("state", "disabled");
            json.WriteEndObject();
            return;
        }
        var snapshot = keys.Current;
        WriteFileStore(json, snapshot.State, keys.Path, snapshot.ByHash.Count, snapshot.Generation, snapshot.LoadedAt, snapshot.Problems, snapshot.Warnings);
    }

    /// <summary>The fields every watched file store shows (key files, virtual-key files), then closes the store's object.</summary>
    private static void WriteFileStore(Utf8JsonWriter json, string state, string path, int count, long generation, DateTimeOffset loadedAt,
        IReadOnlyList<Switchyard.Core.Configs.ConfigLoadProblem> problems, IReadOnlyList<string> warnings)
    {
        json.WriteString("state", state);
        json.WriteString("path", path);
        json.WriteNumber("count", count);
        json.WriteNumber("generation", generation);
        json.WriteString("loaded_at", loadedAt);
        WriteProblems(json, problems, warnings);
        json.WriteEndObject();
    }

    /// <summary>JWT authentication: where the signing keys come from, when they were fetched, how many, and what went wrong (never a token).</summary>
    private static void WriteJwt(Utf8JsonWriter json, Core.Security.Jwt.JwtAuthenticator? jwt)
    {
        json.WriteStartObject("jwt");
        if (jwt is null)
        {
            json.WriteString("state", "disabled");
            json.WriteEndObject();
            return;
        }
        var state = jwt.Keys.State;
        // ok: the last fetch worked. degraded: it failed, earlier keys still serve. unavailable: no keys, JWT requests get 503.
        // pending: the first fetch has not finished.
        json.WriteString("state", state.Keys is null ? (state.Problem is null ? "pending" : "unavailable") : state.Problem is null ? "ok" : "degraded");
        json.WriteString("jwks_host", jwt.Keys.Url.Host);
        json.WriteNumber("key_count", state.Keys?.Count ?? 0);
        WriteTime(json, "last_fetch", state.LastAttempt);
        WriteTime(json, "last_success", state.LastSuccess);
        json.WriteNumber("fetches", jwt.Keys.FetchCount);
        if (state.Problem is { } problem)
        {
            json.WriteString("problem", problem);
        }
        else
        {
            json.WriteNull("problem");
        }
        json.WriteEndObject();

        static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? at)
        {
            if (at is { } t)
            {
                json.WriteString(name, t);
            }
            else
            {
                json.WriteNull(name);
            }
        }
    }

    /// <summary>Virtual keys: how many are loaded and what is wrong with their files (slugs and problems only, never a credential).</summary>
    private static void WriteVirtualKeys(Utf8JsonWriter json, Core.Security.VirtualKeys.VirtualKeyStore? store)
    {
        json.WriteStartObject("virtual_keys");
        if (store is null)
        {
            json.WriteString("state", "disabled");
            json.WriteEndObject();
            return;
        }
        var snapshot = store.Current;
        WriteFileStore(json, snapshot.State, store.Path, snapshot.Index.Count, snapshot.Generation, snapshot.LoadedAt, snapshot.Problems, snapshot.Warnings);
    }

    /// <summary>Request-log delivery: what waits in memory and on disk, what arrived and what was lost.</summary>
    private static void WriteLogs(Utf8JsonWriter json, SwitchyardEngine engine)
    {
        json.WriteStartObject("logs");
        if (engine.LogDelivery is not { } logs)
        {
            json.WriteString("store", "none");
            json.WriteString("state", "disabled");
            json.WriteEndObject();
            return;
        }
        var circuitOpen = logs.CircuitOpen;
        json.WriteString("store", logs.Store);
        // Degraded while records cannot reach the store (they wait in the spill directory); drops are reported, not a state.
        json.WriteString("state", circuitOpen || logs.SpilledRecords > 0 ? "degraded" : "ok");
        json.WriteNumber("queue_depth", logs.QueueDepth);
        json.WriteNumber("spilled_records", logs.SpilledRecords);
        json.WriteNumber("spilled_bytes", logs.SpilledBytes);
        json.WriteNumber("delivered", logs.Delivered);
        json.WriteNumber("dropped", logs.Dropped);
        json.WriteBoolean("circuit_open", circuitOpen);
        json.WriteEndObject();
    }

    private static void WriteCache(Utf8JsonWriter json, SwitchyardEngine engine)
    {
        json.WriteStartObject("cache");
        if (engine.Cache is not { } cache)
        {
            json.WriteString("store", "none");
            json.WriteString("state", "disabled");
            json.WriteEndObject();
            return;
        }
        json.WriteString("store", engine.Settings.Cache.StoreName);
        var problem = cache.Store.Problem;
        json.WriteString("state", problem is null ? "ok" : "degraded");
        if (problem is not null)
        {
            json.WriteString("problem", problem);
        }
        if (cache.Store is Switchyard.Core.Caching.FailSafeCacheStore safe)
        {
            json.WriteNumber("errors", safe.Errors);
            json.WriteNumber("timeouts", safe.Timeouts);
            json.WriteNumber("skipped", safe.Skipped);
        }
        json.WriteNumber("writes", cache.Writes);
        if (cache.Semantic is { } semantic)
        {
            json.WriteStartObject("semantic");
            json.WriteString("embedder", semantic.Embedder.Name);
            json.WriteNumber("threshold", semantic.Threshold);
            json.WriteNumber("embedding_errors", semantic.EmbedErrors);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
