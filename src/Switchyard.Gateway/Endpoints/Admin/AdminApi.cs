using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Security.VirtualKeys;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>One admin route: its method and pattern (as mapped, and as <c>openapi.json</c> must describe it) and its handler.</summary>
internal sealed record AdminRoute(string Method, string Pattern, Func<HttpContext, Task> Handle);

/// <summary>
/// The admin API under <c>/v1/admin</c>: every route needs a gateway key with the <c>admin</c> scope (it is never open, even with
/// <c>AUTH_MODE=none</c>), and with <c>ADMIN_PORT</c> set it is served on that port only.
/// </summary>
internal sealed class AdminApi
{
    public const string Prefix = "/v1/admin";

    private static readonly HeaderDictionary NoHeaders = new();

    private readonly ApiKeyGate? _gate;
    private readonly SwitchyardEngine _engine;
    private readonly Counter<long> _calls;

    public AdminApi(SwitchyardEngine engine, IServiceProvider services, Func<IReadOnlyCollection<VirtualKey>> virtualKeys, ApiKeyGate? gate = null)
    {
        _engine = engine;
        _gate = gate;
        _calls = engine.Metrics.Meter.CreateCounter<long>("switchyard.admin.requests", "{request}",
            "Admin API calls, by route pattern, method and status (401/403 included)");
        var usage = new AdminUsageEndpoint(() => engine.Limits, services.GetRequiredService<ILogger<AdminUsageEndpoint>>());
        var reload = ActivatorUtilities.CreateInstance<AdminReloadEndpoint>(services);
        var keys = new AdminKeysEndpoint(services.GetService<ApiKeyStore>(), services.GetService<ApiKeyFileWriter>());
        var pins = new AdminMcpPins(services);
        Routes =
        [
            new("GET", Prefix + "/keys", keys.ListAsync),
            new("POST", Prefix + "/keys", keys.CreateAsync),
            new("GET", Prefix + "/keys/{name}", c => keys.GetAsync(c, Value(c, "name"))),
            new("DELETE", Prefix + "/keys/{name}", c => keys.RevokeAsync(c, Value(c, "name"))),
            new("GET", Prefix + "/virtual-keys", c => AdminVirtualKeys.ListAsync(c, virtualKeys())),
            new("GET", Prefix + "/usage", usage.ListAsync),
            new("GET", Prefix + "/usage/{kind}/{name}", c => usage.GetAsync(c, Value(c, "kind"), Value(c, "name"))),
            new("POST", Prefix + "/reload", reload.ReloadAsync),
            new("GET", Prefix + "/mcp/pins", pins.ListAsync),
            new("POST", Prefix + "/mcp/pins/{server}/{tool}/accept", c => pins.AcceptAsync(c, Value(c, "server"), Value(c, "tool"))),
            new("DELETE", Prefix + "/mcp/pins/{server}/{tool}", c => pins.ForgetAsync(c, Value(c, "server"), Value(c, "tool"))),
            new("GET", Prefix + "/openapi.json", AdminOpenApi.WriteAsync),
        ];
    }

    /// <summary>Every route the admin API maps; the OpenAPI test checks the document against this and the endpoint table.</summary>
    public IReadOnlyList<AdminRoute> Routes { get; }

    public void Map(WebApplication app)
    {
        foreach (var route in Routes)
        {
            app.MapMethods(route.Pattern, [route.Method], context => HandleAsync(context, route.Pattern, route.Handle));
        }
        // Unknown admin paths and methods end here rather than in the /v1 proxy route, which would send them upstream.
        app.Map(Prefix + "/{**rest}", context => HandleAsync(context, "unmatched", UnmatchedAsync));
        app.Map(Prefix, context => HandleAsync(context, "unmatched", UnmatchedAsync));
    }

    private async Task HandleAsync(HttpContext context, string pattern, Func<HttpContext, Task> handle)
    {
        try
        {
            if (await RefusalAsync(context) is { } refusal)
            {
                await ApiKeyGate.WriteAsync(context, refusal);
                return;
            }
            await handle(context);
        }
        finally
        {
            // The method is the client's text on unmatched paths: only the standard ones become label values, so series stay bounded.
            var method = context.Request.Method is "GET" or "POST" or "PUT" or "PATCH" or "DELETE" or "HEAD" or "OPTIONS" ? context.Request.Method : "_other";
            _calls.Add(1, new KeyValuePair<string, object?>("route", pattern), new KeyValuePair<string, object?>("method", method),
                new KeyValuePair<string, object?>(Core.Telemetry.SwitchyardMetrics.StatusLabel, context.Response.StatusCode));
        }
    }

    private async ValueTask<AuthRefusal?> RefusalAsync(HttpContext context)
    {
        if (_gate is null)
        {
            return AuthRefusal.Forbidden("The admin API needs AUTH_MODE=keys (or jwt) and a credential with the admin scope; with AUTH_MODE=none it is closed");
        }
        var (key, refusal) = await _gate.AuthenticateAsync(context.Request, context.RequestAborted);
        // The config, provider and model allow lists are about proxied requests; only the scope decides here.
        return refusal ?? ApiKeyGate.Authorize(key!, ApiKeyScopes.Admin, NoHeaders, null, _engine);
    }

    private Task UnmatchedAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var allowed = Routes.Where(r => Matches(r.Pattern, path)).Select(r => r.Method).Distinct().ToList();
        if (allowed.Count > 0)
        {
            context.Response.Headers.Allow = string.Join(", ", allowed);
            return AdminResponses.ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "method_not_allowed",
                $"{context.Request.Method} is not allowed here: use {string.Join(" or ", allowed)}");
        }
        return AdminResponses.ErrorAsync(context, StatusCodes.Status404NotFound, "not_found", "No such admin route; see GET /v1/admin/openapi.json");
    }

    /// <summary>Whether <paramref name="path"/> fits <paramref name="pattern"/>, a <c>{name}</c> segment matching any one segment.</summary>
    private static bool Matches(string pattern, string path)
    {
        var want = pattern.Split('/');
        var have = path.TrimEnd('/').Split('/');
        return want.Length == have.Length
               && want.Zip(have).All(p => p.First.StartsWith('{') ? p.Second.Length > 0 : string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));
    }

    private static string Value(HttpContext context, string name) => (string)context.Request.RouteValues[name]!;
}

/// <summary>Registers and maps the admin API; the few lines <see cref="GatewayApp"/> needs, kept here.</summary>
internal static class AdminApiHosting
{
    public static void AddAdminApi(this IServiceCollection services, ServerOptions options, AdminListener listener)
    {
        services.AddSingleton(listener);
        if (options.Admin.WritableKeyFile is { } writable)
        {
            services.AddSingleton(new ApiKeyFileWriter(writable));
        }
        // The engine's virtual keys as loaded now; none without VIRTUAL_KEYS_PATH. A registration made before this call wins (tests).
        services.TryAddSingleton<Func<IReadOnlyCollection<VirtualKey>>>(sp =>
        {
            var engine = sp.GetRequiredService<SwitchyardEngine>();
            return () => engine.VirtualKeys?.All ?? [];
        });
        if (options.Auth.Keys)
        {
            services.AddSingleton(new ReloadAction("keys", sp =>
            {
                var store = sp.GetRequiredService<ApiKeyStore>();
                store.Reload();
                var s = store.Current;
                return new ReloadReport(s.Generation, s.State, s.Problems, s.Warnings);
            }));
        }
        services.AddSingleton(new ReloadAction("configs", sp =>
        {
            var configs = sp.GetRequiredService<SwitchyardEngine>().NamedConfigs;
            configs.Reload();
            var s = configs.Current;
            return new ReloadReport(s.Generation, s.State, s.Problems, s.Warnings);
        }));
        if (options.Engine.VirtualKeys.Path is not null)
        {
            services.AddSingleton(new ReloadAction("virtual_keys", sp =>
            {
                var store = sp.GetRequiredService<SwitchyardEngine>().VirtualKeys!;
                store.Reload();
                var s = store.Current;
                return new ReloadReport(s.Generation, s.State, s.Problems, s.Warnings);
            }));
        }
        if (options.Engine.UsageLimits.Path is not null)
        {
            services.AddSingleton(new ReloadAction("limits", sp =>
            {
                var limiter = sp.GetRequiredService<SwitchyardEngine>().Limiter;
                limiter.Reload();
                var s = limiter.File!;
                return new ReloadReport(s.Generation, s.State, s.Problems, s.Warnings);
            }));
        }
        services.AddSingleton<AdminApi>();
    }

    /// <summary>With <c>ADMIN_PORT</c>: the admin API only there, and nothing else there (both answer 404 like any unknown route).</summary>
    public static void UseAdminPortIsolation(this WebApplication app)
    {
        var listener = app.Services.GetRequiredService<AdminListener>();
        if (!listener.IsConfigured)
        {
            return;
        }
        app.Use((context, next) => listener.Owns(context) == context.Request.Path.StartsWithSegments(AdminApi.Prefix, StringComparison.OrdinalIgnoreCase)
            ? next(context)
            : GatewayApp.WriteErrorAsync(context, new GatewayError(ErrorCategory.NotFound, "Not Found")));
    }

    public static void MapAdminApi(this WebApplication app) => app.Services.GetRequiredService<AdminApi>().Map(app);
}
