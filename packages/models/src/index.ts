export {
  loadManifest,
  getModel,
  modelDir,
  modelsRoot,
  defaultManifestPath,
  describeSource,
  type Manifest,
  type ModelEntry,
  type ModelFile,
  type ModelSource,
  type PackageSource,
} from './manifest.js';
export { fetchModels, verifyModels, resolveModelFile, type FetchResult, type VerifyResult, type FileCheck, type FileStatus, type StoreOptions } from './store.js';
export { defaultProgress, silentProgress, type Progress } from './progress.js';
export {
  ModelError,
  ManifestError,
  UnknownModelError,
  ModelFileMissingError,
  ModelSourceError,
  ModelFetchError,
  ModelChecksumError,
} from './errors.js';
