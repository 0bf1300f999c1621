namespace Switchyard.Core.Logs.Delivery;

/// <summary>What became of a record handed to the spill directory.</summary>
internal enum SpillResult
{
    Spilled,
    OverBudget,
    Failed,
}
