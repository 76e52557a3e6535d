/**
 * @module rules/profile-fields
 * Every fact of the service profile as a question, in the order a PRC compliance lawyer asks
 * them: who provides the service and from where, to whom, what it generates and on whose
 * model, whether it needs filing, who may use it, then personal information, data and
 * cross-border transfers. `hegui profile init` asks them in this order, `hegui profile check`
 * lists the ones left unknown, and the engine uses the domains to say which answer would
 * change a duty that applies only because a fact is unknown.
 */
import { evaluate } from './condition.js';
import type { ServiceProfile } from './profile.js';
import { audiences, modalities, sectors } from './profile-values.js';
import type { Bilingual, Condition } from './schema.js';

export type FieldKind =
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; values: readonly string[]; min?: number }
  | { type: 'count' }
  | { type: 'text' }
  | { type: 'date' };

export interface ProfileField {
  /** Dotted path in the profile, e.g. `service.audience`. */
  path: string;
  kind: FieldKind;
  question: Bilingual;
  /** Why it matters, with the article behind it. */
  basis: Bilingual;
  /** A profile must give it (only the provider's name: everything else may stay unknown). */
  required?: boolean;
  /** Asked only when this holds or is unknown (e.g. export volumes only when data leaves the mainland). */
  askIf?: Condition;
}

const yesNo = { type: 'boolean' } as const;

export const profileFields: readonly ProfileField[] = [
  {
    path: 'provider.name',
    kind: { type: 'text' },
    required: true,
    question: { zh: '服务提供者的名称？', en: 'Name of the provider?' },
    basis: { zh: '备案、登记和报告均以提供者名义办理。', en: 'Filings, registrations and reports are made in the provider\'s name.' },
  },
  {
    path: 'provider.domestic',
    kind: yesNo,
    question: { zh: '提供者是否在中国境内（大陆）设立？', en: 'Is the provider incorporated in mainland China?' },
    basis: {
      zh: '生成式AI办法第二十条：从境外向境内提供服务同样受约束；个人信息保护法第五十三条：境外处理者须在境内设立代表。',
      en: 'AI Measures Art. 20: services from abroad are covered too; PIPL Art. 53: an offshore processor must appoint a representative in the mainland.',
    },
  },
  {
    path: 'provider.foreignInvested',
    kind: yesNo,
    question: { zh: '提供者是否有外商投资？', en: 'Does foreign capital hold a stake in the provider?' },
    basis: { zh: '生成式AI办法第二十三条：外商投资生成式人工智能服务须符合外商投资法律法规。', en: 'AI Measures Art. 23: foreign investment in generative AI services must follow the foreign-investment laws.' },
  },
  {
    path: 'service.name',
    kind: { type: 'text' },
    question: { zh: '服务名称？', en: 'Name of the service?' },
    basis: { zh: '备案与公示以服务为单位。', en: 'Filings and public notices are made per service.' },
  },
  {
    path: 'service.servesMainlandChina',
    kind: yesNo,
    question: { zh: '中国境内（大陆）的人是否使用本服务，或服务是否面向他们？', en: 'Do people in mainland China use the service, or is it aimed at them?' },
    basis: {
      zh: '生成式AI办法第二条、个人信息保护法第三条：境外处理只有以向境内自然人提供产品或服务为目的时才受其约束。',
      en: 'AI Measures Art. 2; PIPL Art. 3: processing abroad is reached only when it serves or analyses people in the mainland.',
    },
  },
  {
    path: 'service.audience',
    kind: { type: 'enum', values: audiences },
    question: {
      zh: '服务对谁提供？public（公众）、business-api（向企业提供接口或模型）、in-house（仅本单位员工）、research（仅研发）',
      en: 'Who is the service offered to? public, business-api (other businesses build on it, e.g. through an API), in-house (own staff only), research (R&D only)',
    },
    basis: {
      zh: '生成式AI办法第二条、第二十二条（通过可编程接口提供亦属提供服务）；深度合成规定第二条（技术支持者）；算法推荐规定第二条（无"公众"限定）。',
      en: 'AI Measures Arts. 2 and 22 (providing an API is providing the service); Deep Synthesis Art. 2 (technical supporters); Algorithm Provisions Art. 2 (no "public" limit).',
    },
  },
  {
    path: 'service.modalities',
    kind: { type: 'list', values: modalities, min: 1 },
    question: { zh: '生成哪些内容？text, image, audio, video, virtual-scene（逗号分隔）', en: 'What does it generate? text, image, audio, video, virtual-scene (comma-separated)' },
    basis: { zh: '标识办法第四条、GB 45438 第5章：显式标识按内容类型区分。', en: 'Labeling Measures Art. 4, GB 45438 clause 5: explicit labels differ by kind of content.' },
  },
  {
    path: 'service.model',
    kind: { type: 'enum', values: ['own', 'fine-tuned', 'third-party'] },
    question: { zh: '服务背后的模型：own（自研）、fine-tuned（在他人模型上微调）、third-party（直接调用他人模型）', en: 'The model behind the service: own, fine-tuned (on another\'s model), or third-party (used as is)?' },
    basis: { zh: '生成式AI办法第七、八条：训练数据和标注义务约束训练模型的一方。', en: 'AI Measures Arts. 7-8: training-data and annotation duties bind whoever trains the model.' },
  },
  {
    path: 'service.modelFiled',
    askIf: { not: { field: 'service.model', in: ['own', 'fine-tuned'] } },
    kind: yesNo,
    question: { zh: '该模型是否已完成网信部门的生成式人工智能服务备案？', en: 'Has that model completed the CAC generative-AI filing?' },
    basis: {
      zh: '生成式AI办法第十七条：未备案的模型不得向公众提供服务；调用已备案模型的应用按网信部门实践办理登记。',
      en: 'AI Measures Art. 17: a model not filed may not serve the public; apps calling a filed model register with the local CAC (CAC practice).',
    },
  },
  {
    path: 'service.modelForeign',
    askIf: { field: 'service.model', is: 'third-party' },
    kind: yesNo,
    question: { zh: '该模型是否由境外主体开发和运营？', en: 'Is the model developed and run by a provider outside mainland China?' },
    basis: { zh: '生成式AI办法第十七条、第二十条：境外未备案模型不能合法地向境内公众提供。', en: 'AI Measures Arts. 17 and 20: a foreign model that is not filed cannot lawfully be offered to the mainland public.' },
  },
  {
    path: 'service.publicOpinion',
    kind: yesNo,
    question: {
      zh: '服务是否具有舆论属性或社会动员能力（论坛、博客、微博、聊天室、群组、公众账号、短视频、直播、信息分享、小程序，或其他公众表达渠道、发动公众的能力）？',
      en: 'Does the service have public-opinion attributes or social-mobilisation capacity (forums, blogs, microblogs, chat rooms, groups, public accounts, short video, live streaming, information sharing, mini-programs, or any other channel for public expression or for mobilising the public)?',
    },
    basis: {
      zh: '《具有舆论属性或社会动员能力的互联网信息服务安全评估规定》第二条定义；生成式AI办法第十七条、算法推荐规定第二十四条、深度合成规定第十九条据此要求安全评估和备案。',
      en: 'Defined by Art. 2 of the 2018 security-assessment provisions; AI Measures Art. 17, Algorithm Provisions Art. 24 and Deep Synthesis Art. 19 then require the security assessment and filing.',
    },
  },
  {
    path: 'service.minors',
    kind: yesNo,
    question: { zh: '未成年人是否可能使用本服务？', en: 'May minors use the service?' },
    basis: { zh: '生成式AI办法第十条；未成年人网络保护条例。', en: 'AI Measures Art. 10; Regulations on the Protection of Minors Online.' },
  },
  {
    path: 'service.ageVerification',
    askIf: { all: [{ not: { field: 'service.minors', is: true } }, { field: 'service.audience', is: 'public' }] },
    kind: yesNo,
    question: { zh: '是否有有效的年龄核验，能把未成年人挡在服务之外？', en: 'Does effective age verification keep minors out?' },
    basis: {
      zh: '面向公众而无有效年龄核验的服务不能假定没有未成年人用户（未成年人网络保护条例第三十一条、第四十三条）。',
      en: 'A public service without effective age verification cannot assume it has no minors (Minors Regulations Arts. 31 and 43).',
    },
  },
  {
    path: 'service.biometricEditing',
    kind: { type: 'list', values: ['face', 'voice'] },
    question: { zh: '是否编辑或生成人脸、人声等生物识别特征？face, voice（逗号分隔；都没有则留空）', en: 'Does it edit or generate faces or voices? face, voice (comma-separated; empty for neither)' },
    basis: { zh: '深度合成规定第十四条第二款（单独同意）、第十五条（安全评估）、第十七条（显著标识）。', en: 'Deep Synthesis Art. 14(2) (separate consent), Art. 15 (security assessment), Art. 17 (prominent labels).' },
  },
  {
    path: 'service.mayMislead',
    kind: yesNo,
    question: { zh: '生成内容是否可能导致公众混淆或者误认？', en: 'May the generated content mislead or confuse the public?' },
    basis: { zh: '深度合成规定第十七条第一款；标识办法第四条据此要求显式标识。', en: 'Deep Synthesis Art. 17(1); Labeling Measures Art. 4 requires explicit labels in those cases.' },
  },
  {
    path: 'service.offersDownload',
    kind: yesNo,
    question: { zh: '用户能否下载、复制或导出生成的文件？', en: 'Can users download, copy or export generated files?' },
    basis: { zh: '标识办法第四条第二款：导出的文件须含显式标识。', en: 'Labeling Measures Art. 4(2): exported files must carry the explicit label.' },
  },
  {
    path: 'service.recommendation',
    kind: yesNo,
    question: { zh: '是否以个性化推送、排序精选等推荐算法向用户推送内容？', en: 'Does it push content by personalised recommendation, ranking or selection algorithms?' },
    basis: { zh: '算法推荐规定第十、十六、十七条。', en: 'Algorithm Provisions Arts. 10, 16 and 17.' },
  },
  {
    path: 'service.contentPlatform',
    kind: yesNo,
    question: { zh: '是否也传播他人生成的内容（内容传播平台）？', en: 'Does it also distribute content others generated (a content propagation platform)?' },
    basis: { zh: '标识办法第六条；GB 45438 第6章。', en: 'Labeling Measures Art. 6; GB 45438 clause 6.' },
  },
  {
    path: 'service.appStore',
    kind: yesNo,
    question: { zh: '是否运营上架人工智能应用的应用商店？', en: 'Does it run an app store that lists AI apps?' },
    basis: { zh: '标识办法第七条；深度合成规定第十三条。', en: 'Labeling Measures Art. 7; Deep Synthesis Art. 13.' },
  },
  {
    path: 'service.anthropomorphic',
    kind: yesNo,
    question: { zh: '是否模拟人的人格特征与用户持续进行情感互动？', en: 'Does it imitate a human personality to sustain emotional interaction with users?' },
    basis: { zh: '拟人化互动服务管理办法第二条。', en: 'Anthropomorphic AI Measures Art. 2.' },
  },
  {
    path: 'service.games',
    kind: yesNo,
    question: { zh: '是否提供网络游戏？', en: 'Does it offer online games?' },
    basis: { zh: '未成年人网络保护条例第四十六、四十七条。', en: 'Minors Regulations Arts. 46-47.' },
  },
  {
    path: 'service.workDispatch',
    kind: yesNo,
    question: { zh: '是否向劳动者提供工作调度（如向骑手、司机派单）？', en: 'Does it dispatch work to workers (e.g. orders to couriers or drivers)?' },
    basis: { zh: '算法推荐规定第二十条。', en: 'Algorithm Provisions Art. 20.' },
  },
  {
    path: 'service.sellsToConsumers',
    kind: yesNo,
    question: { zh: '是否向消费者销售商品或提供服务？', en: 'Does it sell goods or services to consumers?' },
    basis: { zh: '算法推荐规定第二十一条：不得利用算法实施不合理的差别待遇。', en: 'Algorithm Provisions Art. 21: no unreasonable algorithmic price discrimination.' },
  },
  {
    path: 'service.sectors',
    kind: { type: 'list', values: sectors },
    question: { zh: '属于哪些受监管行业？finance, healthcare, automotive（逗号分隔；都不属于则留空）', en: 'Which regulated sectors? finance, healthcare, automotive (comma-separated; empty for none)' },
    basis: { zh: '行业规则只约束其行业。', en: 'Sector rules bind their sector only.' },
  },
  {
    path: 'service.roboAdvice',
    askIf: { field: 'service.sectors', includes: 'finance' },
    kind: yesNo,
    question: { zh: '是否运用人工智能就资产管理产品提供投资顾问（智能投顾）？', en: 'Does it give investment advice on asset-management products by AI (robo-advice)?' },
    basis: { zh: '资管新规第二十三条只约束智能投顾，不约束金融机构的一般客服机器人。', en: 'The asset-management opinions\' Art. 23 binds robo-advice only, not a financial institution\'s general service bot.' },
  },
  {
    path: 'service.personalInformation.individuals',
    kind: { type: 'count' },
    question: { zh: '处理多少自然人的个人信息？（不处理填0）', en: 'How many individuals\' personal information does it process? (0 for none)' },
    basis: {
      zh: '个人信息保护法第五十二条（100万人：个人信息保护负责人）；网络数据条例第二十八条（1000万人）；合规审计办法第四条（超过1000万人每两年审计）。',
      en: 'PIPL Art. 52 (1 million: a protection officer); Network Data Regulations Art. 28 (10 million); PI audit Art. 4 (over 10 million: audit every two years).',
    },
  },
  {
    path: 'service.personalInformation.sensitive',
    askIf: { field: 'service.personalInformation.individuals', gte: 1 },
    kind: yesNo,
    question: { zh: '是否处理敏感个人信息（生物识别、医疗健康、金融账户、行踪轨迹、不满十四周岁未成年人信息等）？', en: 'Does it process sensitive personal information (biometrics, health, financial accounts, whereabouts, children under 14, ...)?' },
    basis: { zh: '个人信息保护法第二十八至三十二条、第五十五条。', en: 'PIPL Arts. 28-32 and 55.' },
  },
  {
    path: 'service.facialRecognition',
    kind: yesNo,
    question: { zh: '是否用人脸识别技术识别身份？', en: 'Does it identify people by facial recognition?' },
    basis: { zh: '《人脸识别技术应用安全管理办法》。', en: 'Measures for the Security Management of Facial Recognition Technology Applications.' },
  },
  {
    path: 'service.importantData',
    kind: yesNo,
    question: { zh: '是否处理重要数据（按数据安全法和行业重要数据目录）？', en: 'Does it process important data (Data Security Law and sector catalogues)?' },
    basis: { zh: '数据安全法第三十条：重要数据处理者定期开展风险评估。', en: 'DSL Art. 30: processors of important data run periodic risk assessments.' },
  },
  {
    path: 'service.criticalInfrastructure',
    kind: yesNo,
    question: { zh: '是否被认定为关键信息基础设施？', en: 'Has it been designated critical information infrastructure?' },
    basis: { zh: '网络安全法第三章第二节；关键信息基础设施安全保护条例。', en: 'Cybersecurity Law chapter 3 section 2; CII Security Protection Regulations.' },
  },
  {
    path: 'service.crossBorderTransfer',
    kind: yesNo,
    question: { zh: '是否向境外提供数据（包括境外人员远程访问）？', en: 'Does any data leave mainland China (including remote access from abroad)?' },
    basis: { zh: '个人信息保护法第三十八条；《促进和规范数据跨境流动规定》。', en: 'PIPL Art. 38; Provisions on Promoting and Regulating Cross-border Data Flows.' },
  },
  {
    path: 'service.export.importantData',
    askIf: { field: 'service.crossBorderTransfer', is: true },
    kind: yesNo,
    question: { zh: '出境的数据中是否有重要数据？', en: 'Is important data among what is sent abroad?' },
    basis: { zh: '《促进和规范数据跨境流动规定》第七条：重要数据出境只能走安全评估。', en: '2024 Provisions Art. 7: important data may leave only after the security assessment.' },
  },
  {
    path: 'service.export.individuals',
    askIf: { field: 'service.crossBorderTransfer', is: true },
    kind: { type: 'count' },
    question: { zh: '自当年1月1日起累计向境外提供多少人的个人信息（不含敏感个人信息）？', en: 'Individuals whose personal information (not sensitive) is sent abroad since 1 January this year?' },
    basis: { zh: '《促进和规范数据跨境流动规定》第五条（不满10万人免于申报）、第七条（100万人以上安全评估）、第八条（10万至100万人标准合同或认证）。', en: '2024 Provisions Art. 5 (under 100,000: exempt), Art. 7 (over 1 million: assessment), Art. 8 (100,000 to 1 million: contract or certification).' },
  },
  {
    path: 'service.export.sensitiveIndividuals',
    askIf: { field: 'service.crossBorderTransfer', is: true },
    kind: { type: 'count' },
    question: { zh: '自当年1月1日起累计向境外提供多少人的敏感个人信息？', en: 'Individuals whose sensitive personal information is sent abroad since 1 January this year?' },
    basis: { zh: '《促进和规范数据跨境流动规定》第七条（1万人以上安全评估）、第八条（不满1万人标准合同或认证）。', en: '2024 Provisions Art. 7 (over 10,000: assessment), Art. 8 (under 10,000: contract or certification).' },
  },
  {
    path: 'service.launchDate',
    kind: { type: 'date' },
    question: { zh: '上线日期（YYYY-MM-DD）？', en: 'Launch date (YYYY-MM-DD)?' },
    basis: { zh: '算法推荐规定第二十四条：备案自提供服务之日起十个工作日内。', en: 'Algorithm Provisions Art. 24: filing within 10 working days of launch.' },
  },
];

export const profileFieldsByPath: ReadonlyMap<string, ProfileField> = new Map(profileFields.map((f) => [f.path, f]));

/** The value at a dotted path, or undefined when the profile leaves it unknown. */
export function valueAt(profile: ServiceProfile, path: string): unknown {
  let node: unknown = profile;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** True when the interview should ask `field` of this profile (its `askIf` holds or is unknown). */
export function relevant(field: ProfileField, profile: ServiceProfile): boolean {
  return field.askIf === undefined || evaluate(field.askIf, profile) !== 'no';
}

/** The facts the profile leaves unknown that still matter, in interview order (names and dates are not facts). */
export function unknownFields(profile: ServiceProfile): ProfileField[] {
  return profileFields.filter((f) => valueAt(profile, f.path) === undefined && f.kind.type !== 'text' && f.kind.type !== 'date' && relevant(f, profile));
}
