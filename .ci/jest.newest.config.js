// The tests of `.ci/newest` against the aws-cdk-lib, constructs and cdk-nag it installed in
// $NEWEST_NODE_MODULES: the project's jest configuration (package.json), with those three packages
// mapped to that install wherever they are required (the library, the tests, cdk-nag and the
// Control Tower validator alike), so that one copy of each is loaded.
const path = require('path');

const root = path.join(__dirname, '..');
const newest = process.env.NEWEST_NODE_MODULES;
if (!newest) throw new Error('NEWEST_NODE_MODULES is not set: run .ci/newest');
const base = require(path.join(root, 'package.json')).jest;

module.exports = {
  ...base,
  rootDir: root,
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^(aws-cdk-lib|constructs|cdk-nag)$': `${newest}/$1`,
    '^(aws-cdk-lib|constructs|cdk-nag)/(.*)$': `${newest}/$1/$2`,
  },
  // The test environment's shared CloudFormation validator comes from that aws-cdk-lib too.
  testEnvironmentOptions: { ...base.testEnvironmentOptions, awsCdkLib: `${newest}/aws-cdk-lib` },
  reporters: ['default'],
};
