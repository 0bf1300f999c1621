using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.modelWhitelist</c> (also <c>default.modelwhitelist</c>): the request's <c>model</c> is one of <c>models</c>.</summary>
internal sealed class ModelWhitelistCheck(List<string> models, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var models = p.StringArray("models", required: true);
        var not = p.Bool("not");
        return models is null || !p.Ok ? null : new ModelWhitelistCheck(models, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var model = ContentLocator.ChatText(context.RequestJson["model"]);
        if (string.IsNullOrEmpty(model))
        {
            return ValueTask.FromResult(CheckOutcome.Failed("Missing model in request", new JsonObject
            {
                ["explanation"] = "An error occurred while checking model whitelist: Missing model in request",
                ["requestedModel"] = "No model specified",
                ["not"] = not,
                ["allowedModels"] = CheckData.Strings(models),
            }));
        }
        var verdict = CheckData.Apply(models.Contains(model, StringComparer.Ordinal), not);
        var data = new JsonObject
        {
            ["verdict"] = verdict,
            ["not"] = not,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"Model \"{model}\" is allowed.",
                $"Model \"{model}\" is not in the allowed list as expected.",
                $"Model \"{model}\" is not in the allowed list.",
                $"Model \"{model}\" is in the allowed list when it should not be."),
            ["requestedModel"] = model,
            ["allowedModels"] = CheckData.Strings(models),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
