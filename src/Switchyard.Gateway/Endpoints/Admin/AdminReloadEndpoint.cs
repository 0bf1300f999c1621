namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary><c>POST /v1/admin/reload</c>: re-reads every registered store now, instead of waiting for its watcher.</summary>
internal sealed class AdminReloadEndpoint(IEnumerable<ReloadAction> actions, IServiceProvider services, ILogger<AdminReloadEndpoint> logger)
{
    private readonly ReloadAction[] _actions = actions.ToArray();

    public Task ReloadAsync(HttpContext context)
    {
        var results = new List<(string Name, ReloadReport? Report, string? Error)>();
        foreach (var action in _actions)
        {
            try
            {
                results.Add((action.Name, action.Reload(services), null));
            }
            catch (Exception ex)
            {
                // The stores report file problems rather than throw; whatever does throw is named here, never shown as a stack.
                logger.LogError(ex, "Reloading {Store} failed", action.Name);
                results.Add((action.Name, null, $"the reload failed ({ex.GetType().Name})"));
            }
        }
        var failed = results.Any(r => r.Error is not null);
        return AdminResponses.WriteAsync(context, failed ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("reloaded");
            foreach (var (name, report, error) in results)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                if (report is null)
                {
                    json.WriteString("state", "failed");
                    json.WriteString("error", error);
                }
                else
                {
                    json.WriteNumber("generation", report.Generation);
                    json.WriteString("state", report.State);
                    HealthEndpoint.WriteProblems(json, report.Problems, report.Warnings);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }
}
