namespace Herald.Configuration;

/// <summary>Where a setting's value came from, lowest precedence first.</summary>
internal enum SettingSource
{
    Default,
    ConfigFile,
    Environment,
    CommandLine,
}
