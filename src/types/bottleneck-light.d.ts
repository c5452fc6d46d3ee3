// bottleneck/light.js is the build without Redis clustering that @octokit/plugin-throttling loads;
// the package types only its main entry, which is the same class.
declare module "bottleneck/light.js" {
  import Bottleneck from "bottleneck";
  export default Bottleneck;
}
