//! Model limits and the compaction settings, from the same sources OpenCode merges: the
//! model catalog (models.dev format, cached as `~/.cache/opencode/models.json` or pinned
//! with `OPENCODE_MODELS_PATH`), then the config layers in OpenCode's precedence — global
//! `config.json`, `opencode.json`, `opencode.jsonc`; `OPENCODE_CONFIG`; project
//! `opencode.json[c]` from the worktree down to the session directory;
//! `OPENCODE_CONFIG_CONTENT`; `.opencode/` dirs, `~/.opencode`, `OPENCODE_CONFIG_DIR` — each
//! overriding `provider.<id>.models.<id>.limit` and `compaction` field by field.
//!
//! Limits are not stored with sessions, so this reads the config of the environment ASM runs
//! in; a config file that cannot be parsed is skipped with a warning, as a layer that says nothing.

use super::measure::{CompactionRule, ModelLimits};
use super::model::{count_value, ModelRef};
use super::paths::OpencodePaths;
use crate::env::Env;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What one config layer says about limits and compaction.
#[derive(Debug, Clone, Default, PartialEq)]
struct ConfigLayer {
    limits: HashMap<ModelRef, ModelLimits>,
    compaction_auto: Option<bool>,
    compaction_reserved: Option<u64>,
}

impl ConfigLayer {
    fn from_json(config: &Value) -> ConfigLayer {
        let mut layer = ConfigLayer { limits: model_limits(config.get("provider")), ..ConfigLayer::default() };
        if let Some(compaction) = config.get("compaction") {
            layer.compaction_auto = compaction.get("auto").and_then(Value::as_bool);
            layer.compaction_reserved = count_value(compaction.get("reserved"));
        }
        layer
    }

    fn read(path: &Path) -> Option<ConfigLayer> {
        match crate::lenient_json::read_file(path) {
            Ok(config) => config.map(|c| ConfigLayer::from_json(&c)),
            Err(e) => {
                log::warn!("opencode config skipped: {e}");
                None
            }
        }
    }
}

/// `{provider: {<id>: {models: {<id>: {limit: {context, input, output}}}}}}` — the shape of
/// both the config's `provider` key and the whole catalog file.
fn model_limits(providers: Option<&Value>) -> HashMap<ModelRef, ModelLimits> {
    let mut out = HashMap::new();
    let Some(providers) = providers.and_then(Value::as_object) else { return out };
    for (provider_id, provider) in providers {
        let Some(models) = provider.get("models").and_then(Value::as_object) else { continue };
        for (model_id, model) in models {
            let Some(limit) = model.get("limit") else { continue };
            let limits =
                ModelLimits { context: count_value(limit.get("context")), input: count_value(limit.get("input")), output: count_value(limit.get("output")) };
            out.insert(ModelRef { provider_id: provider_id.clone(), model_id: model_id.clone() }, limits);
        }
    }
    out
}

fn overlay(base: &mut ModelLimits, top: &ModelLimits) {
    base.context = top.context.or(base.context);
    base.input = top.input.or(base.input);
    base.output = top.output.or(base.output);
}

/// Every source of model limits for one environment; project layers are read once per directory.
pub struct ModelDirectory {
    catalog_path: Option<PathBuf>,
    catalog: Option<HashMap<ModelRef, ModelLimits>>,
    before_project: Vec<ConfigLayer>,
    /// `OPENCODE_CONFIG_CONTENT`.
    inline: Vec<ConfigLayer>,
    project_config: bool,
    env_auto_off: bool,
    output_token_max: u64,
    projects: HashMap<(String, Option<String>), ProjectLayers>,
    late_dirs: Vec<PathBuf>,
}

impl ModelDirectory {
    pub fn load(env: &Env, paths: &OpencodePaths) -> ModelDirectory {
        let mut before_project = Vec::new();
        if let Some(dir) = &paths.config_dir {
            before_project.extend(["config.json", "opencode.json", "opencode.jsonc"].iter().filter_map(|name| ConfigLayer::read(&dir.join(name))));
        }
        if let Some(file) = env.get("OPENCODE_CONFIG") {
            before_project.extend(ConfigLayer::read(&env.expand_tilde(file)));
        }
        let mut inline = Vec::new();
        if let Some(content) = env.get("OPENCODE_CONFIG_CONTENT") {
            match crate::lenient_json::parse(content) {
                Ok(config) => inline.push(ConfigLayer::from_json(&config)),
                Err(e) => log::warn!("OPENCODE_CONFIG_CONTENT skipped: not valid JSON ({e})"),
            }
        }
        let late_dirs: Vec<PathBuf> =
            paths.home.iter().map(|h| h.join(".opencode")).chain(env.get("OPENCODE_CONFIG_DIR").map(|d| env.expand_tilde(d))).collect();
        ModelDirectory {
            catalog_path: paths.models_catalog.clone(),
            catalog: None,
            before_project,
            inline,
            project_config: !is_truthy(env.get("OPENCODE_DISABLE_PROJECT_CONFIG")),
            env_auto_off: is_truthy(env.get("OPENCODE_DISABLE_AUTOCOMPACT")),
            output_token_max: env
                .get("OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(super::measure::OUTPUT_TOKEN_MAX),
            projects: HashMap::new(),
            late_dirs,
        }
    }

    /// The limits of `model` for a session in `directory` (None when no source knows the
    /// model), and the compaction rule in force there.
    pub fn resolve(&mut self, model: Option<&ModelRef>, directory: Option<&str>, worktree: Option<&str>) -> (Option<ModelLimits>, CompactionRule) {
        let key = (directory.unwrap_or_default().to_string(), worktree.map(str::to_string));
        if !self.projects.contains_key(&key) {
            let layers = self.project_layers(directory, worktree);
            self.projects.insert(key.clone(), layers);
        }
        let project = self.projects.get(&key);
        let files = project.map(|p| p.files.as_slice()).unwrap_or_default();
        let dot_dirs = project.map(|p| p.dot_dirs.as_slice()).unwrap_or_default();
        let layers = || self.before_project.iter().chain(files).chain(&self.inline).chain(dot_dirs);
        let mut rule = CompactionRule { output_token_max: self.output_token_max, ..CompactionRule::default() };
        for layer in layers() {
            rule.auto = layer.compaction_auto.unwrap_or(rule.auto);
            rule.reserved = layer.compaction_reserved.or(rule.reserved);
        }
        rule.auto &= !self.env_auto_off;
        let Some(model) = model else { return (None, rule) };
        let mut limits = None::<ModelLimits>;
        for layer in layers() {
            if let Some(top) = layer.limits.get(model) {
                overlay(limits.get_or_insert_with(ModelLimits::default), top);
            }
        }
        let from_catalog = self.catalog_entry(model);
        let merged = match (from_catalog, limits) {
            (Some(mut base), Some(top)) => {
                overlay(&mut base, &top);
                Some(base)
            }
            (base, top) => base.or(top),
        };
        (merged, rule)
    }

    fn catalog_entry(&mut self, model: &ModelRef) -> Option<ModelLimits> {
        if self.catalog.is_none() {
            self.catalog = Some(self.read_catalog());
        }
        self.catalog.as_ref()?.get(model).copied()
    }

    fn read_catalog(&self) -> HashMap<ModelRef, ModelLimits> {
        let Some(path) = &self.catalog_path else { return HashMap::new() };
        let Ok(bytes) = crate::fsutil::read_capped(path, crate::fsutil::STORE_FILE_CAP) else { return HashMap::new() };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(catalog) => model_limits(Some(&catalog)),
            Err(e) => {
                log::warn!("opencode model catalog {} skipped: not valid JSON ({e})", path.display());
                HashMap::new()
            }
        }
    }

    /// Project files from the worktree (or `/`) down to the directory, and the `.opencode/`
    /// dirs the same way followed by `~/.opencode` and `OPENCODE_CONFIG_DIR` (always read).
    fn project_layers(&self, directory: Option<&str>, worktree: Option<&str>) -> ProjectLayers {
        // Only an absolute directory: a relative one would be read against ASM's own cwd.
        let chain = match (self.project_config, directory.map(Path::new)) {
            (true, Some(dir)) if dir.is_absolute() => ancestors_down_from(dir, worktree.map(Path::new)),
            _ => Vec::new(),
        };
        let mut dot_dirs: Vec<PathBuf> = chain.iter().map(|d| d.join(".opencode")).collect();
        for late in &self.late_dirs {
            if !dot_dirs.contains(late) {
                dot_dirs.push(late.clone());
            }
        }
        ProjectLayers { files: read_layers_in(&chain), dot_dirs: read_layers_in(&dot_dirs) }
    }
}

/// `opencode.jsonc` then `opencode.json` of each directory, in order.
fn read_layers_in(dirs: &[PathBuf]) -> Vec<ConfigLayer> {
    dirs.iter().flat_map(|d| [d.join("opencode.jsonc"), d.join("opencode.json")]).filter(|f| f.is_file()).filter_map(|f| ConfigLayer::read(&f)).collect()
}

/// The layers that depend on where a session runs.
#[derive(Debug, Default)]
struct ProjectLayers {
    /// Project `opencode.json[c]`, root first (before `OPENCODE_CONFIG_CONTENT`).
    files: Vec<ConfigLayer>,
    /// `.opencode/` dirs, `~/.opencode`, `OPENCODE_CONFIG_DIR` (after it).
    dot_dirs: Vec<ConfigLayer>,
}

/// The directories from `stop` (when it is an ancestor, else the filesystem root) down to `dir`.
fn ancestors_down_from(dir: &Path, stop: Option<&Path>) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    for ancestor in dir.ancestors() {
        chain.push(ancestor.to_path_buf());
        if Some(ancestor) == stop {
            break;
        }
    }
    chain.reverse();
    chain
}

fn is_truthy(value: Option<&str>) -> bool {
    matches!(value.map(|v| v.trim().to_ascii_lowercase()).as_deref(), Some("1" | "true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(p: &str, m: &str) -> ModelRef {
        ModelRef { provider_id: p.into(), model_id: m.into() }
    }

    #[test]
    fn catalog_then_config_layers_in_opencode_order() {
        let tmp = std::env::temp_dir().join(format!("asm-oc-models-{}-{:?}", std::process::id(), std::thread::current().id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let (home, project) = (tmp.join("home"), tmp.join("work/repo/sub"));
        std::fs::create_dir_all(home.join(".config/opencode")).unwrap();
        std::fs::create_dir_all(home.join(".cache/opencode")).unwrap();
        std::fs::create_dir_all(project.join(".opencode")).unwrap();
        std::fs::write(
            home.join(".cache/opencode/models.json"),
            r#"{"anthropic":{"id":"anthropic","models":{"claude-x":{"limit":{"context":200000,"output":64000}}}},"bad":{"models":{"m":{"limit":{"context":"lots"}}}}}"#,
        )
        .unwrap();
        std::fs::write(
            home.join(".config/opencode/opencode.jsonc"),
            "{ // global\n \"provider\": {\"mock\": {\"models\": {\"m\": {\"limit\": {\"context\": 100000, \"output\": 8000}}}}},\n \"compaction\": {\"reserved\": 5000},\n}",
        )
        .unwrap();
        std::fs::write(tmp.join("work/repo/opencode.json"), r#"{"provider":{"anthropic":{"models":{"claude-x":{"limit":{"input":150000}}}}}}"#).unwrap();
        std::fs::write(project.join(".opencode/opencode.json"), r#"{"compaction":{"auto":false}}"#).unwrap();
        std::fs::write(home.join(".config/opencode/config.json"), "{ not json").unwrap();
        let env = Env::from_pairs([("HOME", home.to_str().unwrap())]);
        let paths = OpencodePaths::resolve(&env).unwrap();
        let mut dir = ModelDirectory::load(&env, &paths);
        let repo = tmp.join("work/repo");
        let (limits, rule) = dir.resolve(Some(&model("anthropic", "claude-x")), Some(repo.to_str().unwrap()), Some(repo.to_str().unwrap()));
        assert_eq!(limits, Some(ModelLimits { context: Some(200_000), input: Some(150_000), output: Some(64_000) }));
        assert_eq!(rule, CompactionRule { auto: true, reserved: Some(5_000), output_token_max: 32_000 });
        let (limits, rule) = dir.resolve(Some(&model("mock", "m")), Some(project.to_str().unwrap()), Some(repo.to_str().unwrap()));
        assert_eq!(limits, Some(ModelLimits { context: Some(100_000), input: None, output: Some(8_000) }));
        assert!(!rule.auto, "the .opencode dir of the session turns auto-compaction off");
        assert_eq!(dir.resolve(Some(&model("bad", "m")), None, None).0, Some(ModelLimits::default()));
        assert_eq!(dir.resolve(Some(&model("nobody", "m")), None, None).0, None);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn variables_change_the_rule_and_add_layers() {
        let env = Env::from_pairs([
            ("HOME", "/nonexistent-asm-home"),
            ("OPENCODE_DISABLE_AUTOCOMPACT", "1"),
            ("OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX", "16000"),
            ("OPENCODE_CONFIG_CONTENT", r#"{"provider":{"p":{"models":{"m":{"limit":{"context":1000}}}}}}"#),
        ]);
        let paths = OpencodePaths::resolve(&env).unwrap();
        let mut dir = ModelDirectory::load(&env, &paths);
        let (limits, rule) = dir.resolve(Some(&model("p", "m")), Some("/nonexistent-asm-dir"), None);
        assert_eq!(limits.and_then(|l| l.window()), Some(1000));
        assert_eq!(rule, CompactionRule { auto: false, reserved: None, output_token_max: 16_000 });
    }
}
