using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.notNull</c>: the current content exists and has non-blank text.</summary>
internal sealed class NotNullCheck(bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var not = p.Bool("not");
        return p.Ok ? new NotNullCheck(not) : null;
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var part = context.GetContentPart(ev);
        var content = part.Content;
        var isNull = content is null
            || (content is JsonValue v && v.TryGetValue<string>(out var s) && s.Trim().Length == 0)
            || (content is JsonArray { Count: 0 })
            || part.Texts.All(t => t.Trim().Length == 0);
        var verdict = not ? isNull : !isNull;
        var data = new JsonObject
        {
            ["isNull"] = isNull,
            ["contentType"] = content switch
            {
                null => "null",
                JsonValue cv when cv.TryGetValue<string>(out _) => "string",
                JsonValue cv when cv.TryGetValue<double>(out _) => "number",
                JsonValue cv when cv.TryGetValue<bool>(out _) => "boolean",
                _ => "object",
            },
            ["textArrayLength"] = part.Texts.Count,
            ["explanation"] = isNull ? "Content is null, undefined, or empty." : "Content exists and is not null.",
            ["verdict"] = verdict ? "passed" : "failed",
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
