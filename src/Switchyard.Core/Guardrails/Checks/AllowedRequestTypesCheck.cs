using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.allowedRequestTypes</c>: the request's fn name is allowed by <c>allowedTypes</c>/<c>blockedTypes</c> (or the metadata fallbacks).</summary>
internal sealed class AllowedRequestTypesCheck(List<string> allowedParam, List<string> blockedParam, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var allowed = p.StringArray("allowedTypes", required: false, allowCommaString: true, allowEmpty: true) ?? [];
        var blocked = p.StringArray("blockedTypes", required: false, allowCommaString: true, allowEmpty: true) ?? [];
        if (!p.Ok) return null;
        var conflicts = allowed.Intersect(blocked).ToList();
        if (conflicts.Count > 0)
        {
            p.Error("blockedTypes", $"these types appear in both allowedTypes and blockedTypes: {string.Join(", ", conflicts)}");
            return null;
        }
        // `not` (a Switchyard addition, as on every check) inverts the verdict.
        return new AllowedRequestTypesCheck(allowed, blockedParam: blocked, not: p.Bool("not"));
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var allowed = allowedParam;
        var blocked = blockedParam;
        var fromMetadata = false;
        if (allowed.Count == 0 && MetadataList(context.Metadata["supported_endpoints"]) is { Count: > 0 } supported)
        {
            allowed = supported;
            fromMetadata = true;
        }
        if (blocked.Count == 0 && MetadataList(context.Metadata["blocked_endpoints"]) is { Count: > 0 } blockedMeta)
        {
            blocked = blockedMeta;
            fromMetadata = true;
        }
        var current = context.RequestType;
        var conflicts = allowed.Intersect(blocked).ToList();
        if (conflicts.Count > 0)
        {
            var message = $"Conflict detected: The following types appear in both allowedTypes and blockedTypes: {string.Join(", ", conflicts)}. Please remove them from one list.";
            return ValueTask.FromResult(CheckOutcome.Failed(message, new JsonObject
            {
                ["explanation"] = $"An error occurred while checking allowed request types: {message}",
                ["currentRequestType"] = current,
                ["allowedTypes"] = CheckData.Strings(allowed),
                ["blockedTypes"] = CheckData.Strings(blocked),
            }));
        }

        bool verdict;
        string mode;
        string explanation;
        if (allowed.Count == 0 && blocked.Count == 0)
        {
            verdict = true;
            mode = "unrestricted";
            explanation = $"Request type \"{current}\" is allowed (no restrictions configured).";
        }
        else if (allowed.Count == 0)
        {
            verdict = !blocked.Contains(current);
            mode = "blocklist";
            explanation = verdict ? $"Request type \"{current}\" is allowed (not in blocklist)." : $"Request type \"{current}\" is blocked.";
        }
        else if (blocked.Count == 0)
        {
            verdict = allowed.Contains(current);
            mode = "allowlist";
            explanation = verdict ? $"Request type \"{current}\" is allowed." : $"Request type \"{current}\" is not allowed. Allowed types are: {string.Join(", ", allowed)}";
        }
        else
        {
            var isBlocked = blocked.Contains(current);
            verdict = !isBlocked && allowed.Contains(current);
            mode = "combined";
            explanation = verdict
                ? $"Request type \"{current}\" is allowed (in allowlist and not blocked)."
                : isBlocked
                    ? $"Request type \"{current}\" is explicitly blocked."
                    : $"Request type \"{current}\" is not in the allowed list. Allowed types (excluding blocked): {string.Join(", ", allowed.Where(t => !blocked.Contains(t)))}";
        }

        var data = new JsonObject { ["currentRequestType"] = current };
        if (allowed.Count > 0) data["allowedTypes"] = CheckData.Strings(allowed);
        else if (mode == "unrestricted") data["allowedTypes"] = CheckData.Strings(["all"]);
        if (blocked.Count > 0) data["blockedTypes"] = CheckData.Strings(blocked);
        verdict = CheckData.Apply(verdict, not);
        data["verdict"] = verdict;
        data["not"] = not;
        data["explanation"] = explanation;
        data["source"] = allowedParam.Count > 0 || blockedParam.Count > 0 ? "parameters" : fromMetadata ? "metadata" : "default";
        data["mode"] = mode;
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    private static List<string>? MetadataList(JsonNode? node) => node switch
    {
        JsonArray a => [.. a.Select(ContentLocator.ChatText).Where(s => s is not null).Select(s => s!)],
        JsonValue v when v.TryGetValue<string>(out var s) => [.. s.Split(',').Select(t => t.Trim()).Where(t => t.Length > 0)],
        _ => null,
    };
}
