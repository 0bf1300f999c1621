using System.Text.Json;
using System.Text.RegularExpressions;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>Turns a query's JSON into a <see cref="ConditionNode"/> tree, reporting every problem rather than stopping at the first.</summary>
internal static class ConditionCompiler
{
    private const string OperatorList = "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $regex, $exists, $length";

    public static ConditionNode? CompileQuery(JsonElement query, string path, List<ConfigError> errors)
    {
        if (query.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError(path, "A query must be a JSON object."));
            return null;
        }

        var children = new List<ConditionNode>();
        var failed = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in query.EnumerateObject())
        {
            var keyPath = Child(path, property.Name);
            if (!seen.Add(property.Name))
            {
                // JSON.parse keeps only the last duplicate; refusing is clearer than guessing which one was meant.
                errors.Add(new ConfigError(keyPath, $"Key '{property.Name}' appears more than once in the same query object."));
                failed = true;
                continue;
            }

            var child = property.Name switch
            {
                "$and" or "$or" => CompileGroup(property.Name, property.Value, keyPath, errors),
                _ when property.Name.StartsWith('$') => Fail(errors, keyPath,
                    $"Unknown logical operator '{property.Name}'; only $and and $or may be used as query keys."),
                _ => CompileField(property.Name, property.Value, keyPath, errors),
            };
            if (child is null) failed = true;
            else children.Add(child);
        }
        return failed ? null : new AllOfCondition([.. children]);
    }

    private static ConditionNode? CompileGroup(string name, JsonElement value, string path, List<ConfigError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
            return Fail(errors, path, $"{name} must be an array of query objects.");
        if (value.GetArrayLength() == 0)
            return Fail(errors, path, $"{name} must contain at least one query object.");

        var children = new ConditionNode[value.GetArrayLength()];
        var failed = false;
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var itemPath = $"{path}[{index}]";
            var child = item.ValueKind == JsonValueKind.Object
                ? CompileQuery(item, itemPath, errors)
                : Fail(errors, itemPath, $"Each entry of {name} must be a query object.");
            if (child is null) failed = true;
            else children[index] = child;
            index++;
        }
        if (failed) return null;
        return name == "$and" ? new AllOfCondition(children) : new AnyOfCondition(children);
    }

    private static ConditionNode? CompileField(string key, JsonElement value, string path, List<ConfigError> errors)
    {
        var fieldPath = FieldPath.Parse(key, out var pathError);
        if (fieldPath is null)
        {
            errors.Add(new ConfigError(path, pathError!));
            return null;
        }

        // Anything but an object is a literal to compare with; an object always holds operators, as in Portkey.
        if (value.ValueKind != JsonValueKind.Object)
            return new FieldCondition(fieldPath, [new EqualityPredicate(new ConditionLiteral(value), negated: false)]);

        var predicates = CompileOperators(value, path, errors);
        return predicates is null ? null : new FieldCondition(fieldPath, predicates);
    }

    private static FieldPredicate[]? CompileOperators(JsonElement operators, string path, List<ConfigError> errors)
    {
        var predicates = new List<FieldPredicate>();
        var failed = false;
        foreach (var op in operators.EnumerateObject())
        {
            var predicate = CompileOperator(op.Name, op.Value, Child(path, op.Name), errors);
            if (predicate is null) failed = true;
            else predicates.Add(predicate);
        }
        if (!failed && predicates.Count == 0)
        {
            errors.Add(new ConfigError(path, "The operator object is empty; give a value or at least one operator such as $eq."));
            return null;
        }
        return failed ? null : [.. predicates];
    }

    private static FieldPredicate? CompileOperator(string name, JsonElement operand, string path, List<ConfigError> errors)
    {
        switch (name)
        {
            case "$eq":
            case "$ne":
                return new EqualityPredicate(new ConditionLiteral(operand), negated: name == "$ne");
            case "$gt":
            case "$gte":
            case "$lt":
            case "$lte":
                if (!NumericCoercion.TryGetNumber(operand, out var bound))
                {
                    errors.Add(new ConfigError(path, $"{name} needs a number or a string that starts with a number."));
                    return null;
                }
                return new ComparisonPredicate(name switch
                {
                    "$gt" => ComparisonOperator.GreaterThan,
                    "$gte" => ComparisonOperator.GreaterThanOrEqual,
                    "$lt" => ComparisonOperator.LessThan,
                    _ => ComparisonOperator.LessThanOrEqual,
                }, bound);
            case "$in":
            case "$nin":
                if (operand.ValueKind != JsonValueKind.Array)
                {
                    errors.Add(new ConfigError(path, $"{name} needs an array of values."));
                    return null;
                }
                var candidates = new ConditionLiteral[operand.GetArrayLength()];
                var i = 0;
                foreach (var item in operand.EnumerateArray()) candidates[i++] = new ConditionLiteral(item);
                return new MembershipPredicate(candidates, negated: name == "$nin");
            case "$regex":
                if (operand.ValueKind != JsonValueKind.String)
                {
                    errors.Add(new ConfigError(path, "$regex needs a string pattern."));
                    return null;
                }
                try
                {
                    return new PatternPredicate(new Regex(operand.GetString()!, RegexOptions.CultureInvariant, PatternPredicate.MatchTimeout));
                }
                catch (ArgumentException ex)
                {
                    errors.Add(new ConfigError(path, $"Invalid regular expression: {ex.Message}"));
                    return null;
                }
            case "$exists":
                if (operand.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add(new ConfigError(path, "$exists needs true or false."));
                    return null;
                }
                return new ExistencePredicate(operand.ValueKind == JsonValueKind.True);
            case "$length":
                if (operand.ValueKind == JsonValueKind.Number)
                    return new LengthPredicate([new EqualityPredicate(new ConditionLiteral(operand), negated: false)]);
                if (operand.ValueKind == JsonValueKind.Object)
                {
                    var inner = CompileOperators(operand, path, errors);
                    return inner is null ? null : new LengthPredicate(inner);
                }
                errors.Add(new ConfigError(path, "$length needs a number or an operator object such as {\"$gt\": 10}."));
                return null;
            default:
                var hint = name.StartsWith('$') ? "" : " To compare with an object, write {\"$eq\": {...}}.";
                errors.Add(new ConfigError(path, $"Unknown operator '{name}'; supported operators are {OperatorList}.{hint}"));
                return null;
        }
    }

    private static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static ConditionNode? Fail(List<ConfigError> errors, string path, string message)
    {
        errors.Add(new ConfigError(path, message));
        return null;
    }
}
