using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.jsonSchema</c>: some JSON in the text (fenced, else <c>{…}</c> spans) validates against a draft 2020-12 schema.</summary>
internal sealed class JsonSchemaCheck(JsonSchema schema, bool not) : IGuardrailCheck
{
    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List };

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var schemaNode = p.Object("schema", required: true);
        var not = p.Bool("not");
        if (schemaNode is null) return null;
        try
        {
            // Cloned: the built schema keeps referring to the element, which must outlive any JsonDocument.
            JsonElement root;
            using (var document = JsonDocument.Parse(schemaNode.ToJsonString())) root = document.RootElement.Clone();
            // The schema is checked against the 2020-12 meta-schema first: building alone tolerates many mistakes
            // (a misspelt type name, a non-array "required") that would make every answer pass or fail.
            var meta = MetaSchemas.Draft202012.Evaluate(root, Evaluation);
            if (!meta.IsValid)
            {
                var problem = FirstError(meta);
                p.Error("schema", $"'schema' is not a valid JSON schema (draft 2020-12){(problem is null ? "" : ": " + problem)}");
                return null;
            }
            // A private registry per schema: an $id in one config must not collide with (or be resolved from) another.
            var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft202012 };
            var schema = JsonSchema.Build(root, options);
            return new JsonSchemaCheck(schema, not);
        }
        catch (Exception ex) when (ex is JsonException or JsonSchemaException or ArgumentException or InvalidOperationException or RefResolutionException)
        {
            p.Error("schema", $"'schema' is not a valid JSON schema: {ex.Message}");
            return null;
        }
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        var candidates = JsonExtraction.Candidates(text, spansOnlyWithoutFences: true);
        JsonNode? bestJson = null;
        EvaluationResults? bestResult = null;
        foreach (var candidate in candidates)
        {
            JsonElement instance;
            try
            {
                using var document = JsonDocument.Parse(candidate);
                instance = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                continue;
            }
            {
                EvaluationResults result;
                try
                {
                    result = schema.Evaluate(instance, Evaluation);
                }
                catch (Exception ex) when (ex is JsonSchemaException or RefResolutionException or InvalidOperationException)
                {
                    return ValueTask.FromResult(CheckOutcome.Failed(ex.Message, new JsonObject
                    {
                        ["explanation"] = "An error occurred while processing the JSON.",
                        ["error"] = ex.Message,
                        ["not"] = not,
                    }));
                }
                if (result.IsValid || bestJson is null)
                {
                    bestJson = JsonNode.Parse(candidate);
                    bestResult = result;
                }
                if (result.IsValid) break;
            }
        }
        if (bestJson is null || bestResult is null)
        {
            return ValueTask.FromResult(new CheckOutcome(false, new JsonObject
            {
                ["explanation"] = "No valid JSON found in the response.",
                ["not"] = not,
            }));
        }
        var verdict = CheckData.Apply(bestResult.IsValid, not);
        var data = new JsonObject
        {
            ["matchedJson"] = bestJson,
            ["not"] = not,
            ["explanation"] = CheckData.Explain(verdict, not,
                "Successfully validated JSON against the provided schema.",
                "Successfully validated JSON does not match the schema as expected.",
                "Failed to validate JSON against the provided schema.",
                "JSON matches the schema when it should not."),
            ["validationErrors"] = Errors(bestResult),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    private static JsonArray Errors(EvaluationResults results)
    {
        var list = new JsonArray();
        Walk(results);
        return list;

        void Walk(EvaluationResults node)
        {
            if (node.Errors is { Count: > 0 } errors)
            {
                foreach (var (_, message) in errors)
                {
                    list.Add((JsonNode)new JsonObject { ["path"] = node.InstanceLocation.ToString(), ["message"] = message });
                }
            }
            if (node.Details is { } details)
            {
                foreach (var child in details) Walk(child);
            }
        }
    }

    private static string? FirstError(EvaluationResults results)
    {
        if (results.Errors is { Count: > 0 } errors)
        {
            var (keyword, message) = errors.First();
            var at = results.InstanceLocation.ToString();
            return $"{(at.Length == 0 ? "" : at + ": ")}{message} ({keyword})";
        }
        if (results.Details is { } details)
        {
            foreach (var child in details)
            {
                if (FirstError(child) is { } found) return found;
            }
        }
        return null;
    }
}
