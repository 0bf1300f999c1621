namespace Switchyard.Core.Guardrails.Checks;

/// <summary>How a list of wanted items is judged: at least one present, all present, or none present.</summary>
internal enum KeyOperator
{
    Any,
    All,
    None,
}

internal static class KeyOperators
{
    public static KeyOperator? Read(CheckParameters p, string name = "operator")
    {
        return p.Choice(name, required: true, "any", "all", "none") switch
        {
            "any" => KeyOperator.Any,
            "all" => KeyOperator.All,
            "none" => KeyOperator.None,
            _ => null,
        };
    }

    public static string Name(this KeyOperator op) => op switch
    {
        KeyOperator.Any => "any",
        KeyOperator.All => "all",
        _ => "none",
    };

    public static bool Judge(this KeyOperator op, int found, int missing) => op switch
    {
        KeyOperator.Any => found > 0,
        KeyOperator.All => missing == 0,
        _ => found == 0,
    };
}
